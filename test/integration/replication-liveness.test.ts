/**
 * A frozen follower (`--replicas 2`, control/chains.ts), with real processes: its pid is
 * SIGSTOPped under writers and readers. Its leader finds it acknowledging nothing for the
 * follower bound (half the request timeout), the control raises the epoch, the leader goes on
 * alone, the frozen process is killed, and a new follower catches up; no store waits until its
 * deadline, and the history checker finds no acknowledged store lost and no stale load.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { scanLog } from '../../computing/wal-format.js';
import { followerLateMs } from '../../control/chains.js';
import { readProcessState } from '../../control/liveness.js';
import { FollowerState } from '../../proto/gen/arbor/v1/arbor.js';
import { startGateway } from '../helpers/gateway.js';
import { checkRegisters, History, registerWorkload } from '../helpers/history.js';
import { rpc } from '../helpers/rpc.js';

/** The default request timeout: the bound a held store must be released within. */
const REQUEST_TIMEOUT_MS = 2000;

const entriesOf = (path: string): Map<string, bigint> => scanLog(readFileSync(path)).entries;

describe('--replicas 2: a follower that stops acknowledging', () => {
  it('SIGSTOP of a follower under writers: found late, killed, the leader goes on alone, a new follower catches up, nothing lost', { timeout: 90_000 }, async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'arbor-repl-live-')), 'data');
    onTestFinished(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
    const gw = await startGateway(['--data-dir', dir, '--replicas', '2', '--request-timeout-ms', String(REQUEST_TIMEOUT_MS)]);
    const api = rpc(gw.client());
    const ids = [8, 4, 12];
    for (const id of ids) await api.create({ id });
    const replicaOf = async (id: number) => (await api.topology()).nodes.find((n) => n.id === id)?.replica;
    await expect.poll(async () => (await replicaOf(4))?.followerState, { timeout: 10_000 }).toBe(FollowerState.FOLLOWER_STATE_IN_SYNC);
    const frozen = (await replicaOf(4))?.followerPid ?? 0;
    expect(frozen).toBeGreaterThan(0);
    // Also when the test fails: the frozen process does not stay stopped behind us.
    onTestFinished(() => {
      try {
        process.kill(frozen, 'SIGKILL');
      } catch {
        // gone already
      }
    });

    const WRITERS = 4;
    const keys = Array.from({ length: WRITERS * 2 }, (_, k) => ({ key: `w${k >> 1}k${k & 1}`, id: k % 2 === 0 ? 4 : ids[k % ids.length]! }));
    const history = new History();
    const nodeOf = new Map(keys.map(({ key, id }) => [key, id]));
    const workload = registerWorkload(history, () => gw.client(), keys, { writers: WRITERS, readers: 2, readerStride: 3 });
    const storesOn4 = (after: number) => history.operations.filter((op) => op.kind === 'store' && op.ok && nodeOf.get(op.key) === 4 && op.invokedAt > after).length;
    await vi.waitFor(() => expect(storesOn4(0)).toBeGreaterThan(50), { timeout: 30_000, interval: 20 });

    const stoppedAt = performance.now();
    process.kill(frozen, 'SIGSTOP');
    // The control raises the epoch (the leader goes on alone) and a new follower catches up.
    await vi.waitFor(
      async () => {
        const r = await replicaOf(4);
        expect(r?.epoch).toBeGreaterThanOrEqual(2);
        expect(r?.followerPid).not.toBe(frozen);
        expect(r?.followerState).toBe(FollowerState.FOLLOWER_STATE_IN_SYNC);
      },
      { timeout: 20_000, interval: 50 },
    ).catch((error: unknown) => {
      throw new Error(`no new follower: ${String(error)}\n${gw.stderr().slice(-4000)}`);
    });
    // The frozen process was killed: it can never acknowledge anything later.
    await vi.waitFor(() => expect(readProcessState(frozen)).toBe('gone'), { timeout: 5000, interval: 20 });
    // Stores on node 4 go on after the freeze.
    const resumed = storesOn4(stoppedAt);
    await vi.waitFor(() => expect(storesOn4(stoppedAt)).toBeGreaterThan(resumed + 50), { timeout: 30_000, interval: 20 });
    workload.stop();
    await workload.done;

    // No store waited until its deadline: the ones the frozen follower held were released (one copy) before it.
    const on4 = history.operations.filter((op) => op.kind === 'store' && nodeOf.get(op.key) === 4);
    expect(on4.filter((op) => !op.ok)).toEqual([]);
    const held = on4.filter((op) => op.returnedAt > stoppedAt && op.invokedAt < stoppedAt + REQUEST_TIMEOUT_MS);
    const longest = Math.max(...held.map((op) => op.returnedAt - op.invokedAt));
    expect(longest).toBeLessThan(REQUEST_TIMEOUT_MS);
    // ...and they were held: the follower was found late, not by chance.
    expect(longest).toBeGreaterThanOrEqual(followerLateMs(REQUEST_TIMEOUT_MS) * 0.9);

    const call = rpc(gw.client());
    for (const { key, id } of keys) {
      await history.load(key, async () => {
        const res = await call.exec({ id, name: key });
        return res.found ? res.value : null;
      });
    }
    expect(checkRegisters(history.operations)).toEqual([]);
    expect(history.operations.slice(-keys.length).every((op) => op.ok && op.value !== null)).toBe(true);
    // The new follower holds what the leader holds.
    await vi.waitFor(() => expect(entriesOf(join(dir, 'nodes', '4.copy.wal'))).toEqual(entriesOf(join(dir, 'nodes', '4.wal'))), { timeout: 10_000, interval: 50 });
    console.log(`frozen follower: stores on node 4 held at most ${longest.toFixed(0)} ms (bound ${followerLateMs(REQUEST_TIMEOUT_MS)} ms late + a check period + the control's round trip)`);
  });
});
