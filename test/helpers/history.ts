/**
 * A recorded history of stores and loads, checked afterwards key by key as a register (the
 * idea of etcd's robustness tests with porcupine, for the single-writer case): every operation
 * is recorded with its invoke and return times and its result; a failed store is "unknown" (it
 * may or may not have been applied).
 *
 * Each key has one writer, which writes increasing values one at a time, so the values of a key
 * are ordered by when they were written. Then, for every load that answered:
 * - a value it returns was written by a store invoked before the load returned (never a value
 *   nobody wrote, nor one written only later);
 * - it is not older than the newest store acknowledged before the load was invoked (no lost
 *   acknowledged store, no stale read);
 * - "not found" only if no store of the key was acknowledged before the load was invoked.
 */
import { onTestFinished } from 'vitest';
import type { ArborServiceClient } from '../../proto/gen/arbor/v1/arbor.js';
import { rpc } from './rpc.js';

export interface Operation {
  key: string;
  kind: 'store' | 'load';
  /** A store's value; a load's result (null: not found). Undefined for a load that failed. */
  value: bigint | null | undefined;
  /** Monotonic ms (performance.now()). */
  invokedAt: number;
  returnedAt: number;
  /** Answered with a result (a failed store may still have been applied). */
  ok: boolean;
}

export class History {
  readonly operations: Operation[] = [];

  /** Runs and records a store; never throws (a failure is recorded as unknown). */
  async store(key: string, value: bigint, run: () => Promise<unknown>): Promise<boolean> {
    const invokedAt = performance.now();
    try {
      await run();
      this.operations.push({ key, kind: 'store', value, invokedAt, returnedAt: performance.now(), ok: true });
      return true;
    } catch {
      this.operations.push({ key, kind: 'store', value, invokedAt, returnedAt: performance.now(), ok: false });
      return false;
    }
  }

  /** Runs and records a load; `run` resolves with the value, or null when not found. */
  async load(key: string, run: () => Promise<bigint | null>): Promise<void> {
    const invokedAt = performance.now();
    try {
      const value = await run();
      this.operations.push({ key, kind: 'load', value, invokedAt, returnedAt: performance.now(), ok: true });
    } catch {
      this.operations.push({ key, kind: 'load', value: undefined, invokedAt, returnedAt: performance.now(), ok: false });
    }
  }
}

/** Every violation of the register rules, in words (empty: the history is fine). */
export function checkRegisters(operations: readonly Operation[]): string[] {
  const problems: string[] = [];
  const byKey = new Map<string, Operation[]>();
  for (const op of operations) {
    const list = byKey.get(op.key) ?? [];
    list.push(op);
    byKey.set(op.key, list);
  }
  for (const [key, ops] of byKey) {
    const stores = ops.filter((op) => op.kind === 'store');
    for (const load of ops) {
      if (load.kind !== 'load' || !load.ok) continue;
      const ackedBefore = stores.filter((s) => s.ok && s.returnedAt < load.invokedAt).map((s) => s.value as bigint);
      const newestAcked = ackedBefore.length === 0 ? undefined : ackedBefore.reduce((a, b) => (a > b ? a : b));
      const at = `load of ${key} invoked at ${load.invokedAt.toFixed(1)} ms`;
      if (load.value === null) {
        if (newestAcked !== undefined) problems.push(`${at} found nothing, but ${newestAcked} was acknowledged before it`);
        continue;
      }
      const value = load.value as bigint;
      const writer = stores.find((s) => s.value === value && s.invokedAt < load.returnedAt);
      if (writer === undefined) problems.push(`${at} returned ${value}, which no store invoked before it returned wrote`);
      if (newestAcked !== undefined && value < newestAcked) problems.push(`${at} returned ${value}, older than ${newestAcked} acknowledged before it`);
    }
  }
  return problems;
}

/**
 * Writers and readers over `keys` (each a register kept in node `id`), recorded in `history`:
 * writer w owns keys 2w and 2w+1 and stores increasing values into them in turn; reader r loads
 * keys r, r + stride, ... Every one runs until `stop()` (also called when the test ends, so the
 * clients end before the gateway does); `done` resolves once all have ended.
 */
export function registerWorkload(
  history: History,
  client: () => ArborServiceClient,
  keys: readonly { key: string; id: number }[],
  shape: { writers: number; readers: number; readerStride: number },
): { stop: () => void; done: Promise<void> } {
  let stopped = false;
  const stop = (): void => {
    stopped = true;
  };
  onTestFinished(stop);
  const writer = async (w: number): Promise<void> => {
    const call = rpc(client());
    const mine = keys.slice(w * 2, w * 2 + 2);
    for (let seq = 1; !stopped; seq++) {
      const { key, id } = mine[seq % 2]!;
      await history.store(key, BigInt(seq), () => call.exec({ id, name: key, value: BigInt(seq) }));
    }
  };
  const reader = async (r: number): Promise<void> => {
    const call = rpc(client());
    for (let i = r; !stopped; i += shape.readerStride) {
      const { key, id } = keys[i % keys.length]!;
      await history.load(key, async () => {
        const res = await call.exec({ id, name: key });
        return res.found ? res.value : null;
      });
    }
  };
  const done = Promise.all([...Array.from({ length: shape.writers }, (_, w) => writer(w)), ...Array.from({ length: shape.readers }, (_, r) => reader(r))]).then(() => undefined);
  return { stop, done };
}
