/**
 * The spare pool's refill rules, with fake processes and a fake clock: refills go one process
 * at a time and wait for a quiet moment (bounded); a node program that dies while loading
 * pauses the refills with a doubling backoff instead of being respawned in a loop, a start
 * someone waits for is still tried and fails with the reason, and one process that loads again
 * ends the pause. (Spares of the real program: self-healing and bench tests.)
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ComputingProcess } from '../../control/process.js';
import fc from 'fast-check';
import {
  decayed,
  DEMAND_HALF_LIFE_MS,
  demandAfterTake,
  demandPlan,
  LOAD_FAILURE_BACKOFF_MAX_MS,
  LOAD_FAILURE_BACKOFF_MS,
  LOAD_TIMEOUT_MS,
  ProcessPool,
  REFILL_MAX_WAIT_MS,
} from '../../control/pool.js';
import type { Logger } from '../../lib/logger.js';

interface FakeProcess {
  proc: ComputingProcess;
  load: (ok: boolean) => void;
}

function fakeProcess(pid: number): FakeProcess {
  let load: (ok: boolean) => void = () => undefined;
  const state = { hasExited: false };
  const loaded = new Promise<boolean>((resolve) => (load = resolve));
  const proc = {
    pid,
    why: 'exit code 1 while loading',
    loaded,
    get hasExited() {
      return state.hasExited;
    },
    stop: () => {
      state.hasExited = true;
      return Promise.resolve();
    },
    kill: () => {
      state.hasExited = true;
      load(false);
    },
  } as unknown as ComputingProcess;
  return {
    proc,
    load: (ok) => {
      if (!ok) state.hasExited = true;
      load(ok);
    },
  };
}

const silent = { warn: () => undefined } as unknown as Logger;

describe('process pool', () => {
  let spawned: FakeProcess[];
  let pool: ProcessPool;
  let busy: boolean;
  const spawn = (): ComputingProcess => {
    const fake = fakeProcess(1000 + spawned.length);
    spawned.push(fake);
    return fake.proc;
  };
  /** Lets the pool's promise chains run (start slots, loaded) without moving the clock. */
  const settle = () => vi.advanceTimersByTimeAsync(0);
  /** Loads every process not loaded yet, successfully or not. */
  const loadAll = async (ok: boolean) => {
    for (const fake of spawned) fake.load(ok);
    await settle();
  };
  /** The pool's first refill, its one process loaded (or dead while loading). */
  const firstSpare = async (ok: boolean) => {
    pool.refill();
    await settle();
    await loadAll(ok);
  };

  beforeEach(() => {
    vi.useFakeTimers();
    spawned = [];
    busy = false;
    pool = new ProcessPool(spawn, () => 2, silent, () => busy);
  });
  afterEach(async () => {
    await pool.close();
    vi.useRealTimers();
  });

  it('refills to its size one process at a time, and a take is replaced', async () => {
    // Asked twice (the gateway's start, a take): still one process loading at a time.
    pool.refill();
    pool.refill();
    await settle();
    expect(spawned).toHaveLength(1);
    await loadAll(true);
    await vi.advanceTimersByTimeAsync(150);
    expect(spawned).toHaveLength(2);
    await loadAll(true);
    await vi.advanceTimersByTimeAsync(500);
    expect(pool.size).toBe(2);
    expect(spawned).toHaveLength(2);
    await pool.acquire(false, Date.now() + 1000);
    await vi.advanceTimersByTimeAsync(150);
    expect(spawned).toHaveLength(3);
  });

  it('refills wait for a quiet moment, at most REFILL_MAX_WAIT_MS', async () => {
    await firstSpare(true);
    busy = true;
    await vi.advanceTimersByTimeAsync(REFILL_MAX_WAIT_MS / 2);
    expect(spawned).toHaveLength(1);
    busy = false;
    await vi.advanceTimersByTimeAsync(150);
    expect(spawned).toHaveLength(2);
    await loadAll(true);
    await pool.acquire(false, Date.now() + 1000);
    busy = true;
    await vi.advanceTimersByTimeAsync(REFILL_MAX_WAIT_MS - 150);
    expect(spawned).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(300);
    expect(spawned).toHaveLength(3);
  });

  it('a program that dies while loading is respawned after a doubling pause, not in a loop', async () => {
    await firstSpare(false);
    expect(spawned).toHaveLength(1);
    // Paused: nothing is spawned before the first backoff ends.
    await vi.advanceTimersByTimeAsync(LOAD_FAILURE_BACKOFF_MS - 10);
    expect(spawned).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(20);
    expect(spawned).toHaveLength(2);
    await loadAll(false);
    // A second failure: the pause is twice the first one.
    await vi.advanceTimersByTimeAsync(2 * LOAD_FAILURE_BACKOFF_MS - 10);
    expect(spawned).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(20);
    expect(spawned).toHaveLength(3);
    // However long it keeps failing, at most one process per capped pause.
    for (let i = 0; i < 20; i++) {
      await loadAll(false);
      await vi.advanceTimersByTimeAsync(LOAD_FAILURE_BACKOFF_MAX_MS);
    }
    expect(spawned.length).toBeLessThanOrEqual(3 + 20);
    const before = spawned.length;
    await loadAll(false);
    await vi.advanceTimersByTimeAsync(LOAD_FAILURE_BACKOFF_MAX_MS - 10);
    expect(spawned).toHaveLength(before);
  });

  it('while paused, a start someone waits for is tried at once and fails with the reason', async () => {
    await firstSpare(false);
    const claim = pool.acquire(true, Date.now() + 5000);
    await settle();
    expect(spawned).toHaveLength(2);
    spawned[1]?.load(false);
    await expect(claim).rejects.toThrow('exit code 1 while loading');
  });

  it('a process that hangs while loading is killed after LOAD_TIMEOUT_MS, and its waiter told why', async () => {
    const claim = pool.acquire(false, Date.now() + 10 * LOAD_TIMEOUT_MS);
    claim.catch(() => undefined);
    await settle();
    expect(spawned).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(LOAD_TIMEOUT_MS - 10);
    expect(spawned[0]?.proc.hasExited).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    expect(spawned[0]?.proc.hasExited).toBe(true);
    await expect(claim).rejects.toThrow(`did not load within ${LOAD_TIMEOUT_MS} ms`);
  });

  it('takes its load bound from its owner (the gateway passes startTimeoutMs)', async () => {
    const quick = new ProcessPool(spawn, () => 1, silent, () => false, 500);
    try {
      const claim = quick.acquire(false, Date.now() + 10_000);
      claim.catch(() => undefined);
      await settle();
      const fake = spawned.at(-1);
      await vi.advanceTimersByTimeAsync(490);
      expect(fake?.proc.hasExited).toBe(false);
      await vi.advanceTimersByTimeAsync(20);
      expect(fake?.proc.hasExited).toBe(true);
      await expect(claim).rejects.toThrow('did not load within 500 ms');
    } finally {
      await quick.close();
    }
  });

  it('one process that loads again ends the pause', async () => {
    await firstSpare(false);
    const claim = pool.acquire(true, Date.now() + 5000);
    await settle();
    spawned[1]?.load(true);
    await expect(claim).resolves.toBe(spawned[1]?.proc);
    // The take schedules a refill after the usual short delay, not after a backoff.
    await vi.advanceTimersByTimeAsync(150);
    expect(spawned).toHaveLength(3);
  });
});

describe('process pool demand', () => {
  it('a burst of takes raises the size (up to twice) and the refill rate; quiet brings both back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 16 }), fc.double({ min: 0, max: 100, noNaN: true }), (base, count) => {
        const plan = demandPlan(base, count);
        expect(plan.spares).toBeGreaterThanOrEqual(base);
        expect(plan.spares).toBeLessThanOrEqual(2 * base);
        expect(plan.refillsAtOnce).toBe(base > 0 && count > base ? 2 : 1);
        if (count <= base) expect(plan.spares).toBe(base);
      }),
    );
  });

  it('takes decay with DEMAND_HALF_LIFE_MS', () => {
    let demand = { count: 0, at: 0 };
    for (let i = 0; i < 8; i++) demand = demandAfterTake(demand, 1000 + i);
    expect(decayed(demand, 1007)).toBeCloseTo(8, 2);
    expect(decayed(demand, 1007 + DEMAND_HALF_LIFE_MS)).toBeCloseTo(4, 2);
    expect(demandPlan(4, decayed(demand, 1007)).spares).toBe(8);
    expect(demandPlan(4, decayed(demand, 1007 + 3 * DEMAND_HALF_LIFE_MS)).spares).toBe(4);
  });

  it('after a burst the pool keeps more spares, two loading at once, and stops the extra ones when quiet', async () => {
    vi.useFakeTimers();
    const spawned: FakeProcess[] = [];
    const pool = new ProcessPool(
      () => {
        const fake = fakeProcess(2000 + spawned.length);
        spawned.push(fake);
        return fake.proc;
      },
      () => 2,
      silent,
      () => false,
      LOAD_TIMEOUT_MS,
      () => 100,
    );
    try {
      const loadAll = async () => {
        for (const fake of spawned) fake.load(true);
        await vi.advanceTimersByTimeAsync(0);
      };
      // Six creates in a row, no spares yet: each waits for a start of its own.
      let taken = 0;
      for (let i = 0; i < 6; i++) void pool.acquire(false, Date.now() + 10_000).then(() => taken++);
      for (let round = 0; round < 6 && taken < 6; round++) await loadAll();
      expect(taken).toBe(6);
      // Refills: two load at once, up to twice the size.
      const before = spawned.length;
      await vi.advanceTimersByTimeAsync(150);
      expect(spawned.length - before).toBe(2);
      for (let round = 0; round < 4; round++) {
        await loadAll();
        await vi.advanceTimersByTimeAsync(150);
      }
      expect(pool.size).toBe(4);
      // Quiet: back to its size.
      await vi.advanceTimersByTimeAsync(4 * DEMAND_HALF_LIFE_MS);
      expect(pool.size).toBe(2);
    } finally {
      await pool.close();
      vi.useRealTimers();
    }
  });
});
