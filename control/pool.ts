/**
 * @module Where computing processes come from: spares started ahead (loaded, waiting for a
 * claim), so that a create or a restart costs a claim, a few milliseconds, instead of a process
 * start (~130 ms of CPU on this kind of machine).
 *
 * Every start goes through StartSlots (so a burst of creates never starves the machine), and
 * a start that someone waits for goes first: restarts, then creates, then refills. A process
 * that finishes loading goes to the longest waiter, else into the pool. The pool refills in the
 * background after every take, one process at a time and in quiet moments, up to its size but
 * never beyond the room the node limit leaves (spares count against it). A spare that dies is
 * not replaced until the next take, and a process that dies while loading pauses the refills
 * with a doubling backoff (until one loads again), so a broken node program cannot make the pool
 * spin; a start someone waits for is still tried at once, and fails with the reason.
 *
 * The pool follows demand: takes are counted with a decay (DEMAND_HALF_LIFE_MS). A burst of more
 * takes than the pool holds (a script creating node after node) raises its size, up to twice the
 * configured one, and lets two refills load at once; quiet lets the count decay, and the extra
 * spares are stopped again. Refills still wait for quiet moments (a script's commands behind
 * its creates need the cores more than spares do).
 */
import { availableParallelism } from 'node:os';
import type { Logger } from '../lib/logger.js';
import type { ComputingProcess } from './process.js';
import { ClaimError } from './process.js';

/** How long after a take the pool starts its replacement (about one create). */
const REFILL_DELAY_MS = 100;
/**
 * How long a refill may wait for a quiet moment (no command in flight or waiting). A script's
 * creates take the spares while its commands queue behind them; refilling then would load new
 * processes on the cores those commands need (a whole piped script ran longer with the pool
 * than without it). Under steady load the pool still refills this late.
 */
export const REFILL_MAX_WAIT_MS = 2000;

/** The first pause of refills after a process died while loading; it doubles up to the cap. */
export const LOAD_FAILURE_BACKOFF_MS = 200;
export const LOAD_FAILURE_BACKOFF_MAX_MS = 10_000;

/**
 * A process not loaded by then is killed and counts as dead while loading, unless the pool is
 * given its own bound (the gateway passes its start timeout, `startTimeoutMs`). Creates wait for
 * the starts ahead of them without a deadline of their own (control.ts, CREATE_WAIT_MS), so a
 * start that hangs must end by itself.
 */
export const LOAD_TIMEOUT_MS = 10_000;

/** The half-life of the take count the pool follows (see the module comment). */
export const DEMAND_HALF_LIFE_MS = 5000;

/** Takes counted with a decay: `count` as of `at` (ms), halving every DEMAND_HALF_LIFE_MS. */
export interface Demand {
  count: number;
  at: number;
}

/** The demand at `now` after one more take (pure). */
export function demandAfterTake(demand: Demand, now: number): Demand {
  return { count: decayed(demand, now) + 1, at: now };
}

/** The take count at `now` (pure). */
export function decayed(demand: Demand, now: number): number {
  return demand.count * 2 ** (-Math.max(0, now - demand.at) / DEMAND_HALF_LIFE_MS);
}

/**
 * How many spares to keep for `base` (the configured size, capped by the node limit's room) at a
 * take count of `count`, and how many refills may load at once: the base and one while takes stay
 * within it; more takes than the base raise both, up to twice the base and two at once (pure).
 */
export function demandPlan(base: number, count: number): { spares: number; refillsAtOnce: number } {
  if (base <= 0) return { spares: 0, refillsAtOnce: 1 };
  const burst = count > base;
  return { spares: burst ? Math.min(2 * base, Math.ceil(count)) : base, refillsAtOnce: burst ? 2 : 1 };
}

interface Waiter {
  resolve: (proc: ComputingProcess) => void;
  reject: (error: ClaimError) => void;
  timer: NodeJS.Timeout;
}

export class ProcessPool {
  private readonly spares: ComputingProcess[] = [];
  /** Processes spawned and still loading. */
  private readonly loading = new Set<ComputingProcess>();
  /** Spawns queued for a start slot. */
  private queued = 0;
  private readonly waiters: Waiter[] = [];
  private readonly slots = new StartSlots();
  private closed = false;
  private refillTimer: NodeJS.Timeout | null = null;
  /** Background refills loading now (one at a time, two in a burst: demandPlan). */
  private refilling = 0;
  private demand: Demand = { count: 0, at: 0 };
  /** Shrinks the pool back once a burst's demand has decayed. */
  private settleTimer: NodeJS.Timeout | null = null;
  /** Rounds of processes in a row that died while loading; refills wait until `refillsPausedUntil`. */
  private loadFailures = 0;
  private refillsPausedUntil = 0;

  constructor(
    private readonly spawn: () => ComputingProcess,
    /** How many spares to keep now: the pool size, capped by the room the node limit leaves. */
    private readonly wanted: () => number,
    private readonly log: Logger,
    /** Whether work is going on that a refill would slow down (see REFILL_MAX_WAIT_MS). */
    private readonly busy: () => boolean = () => false,
    private readonly loadTimeoutMs = LOAD_TIMEOUT_MS,
    /** Room the node limit leaves (a burst's extra spares count against it too). */
    private readonly room: () => number = () => Infinity,
  ) {}

  /** Loaded spares ready to be claimed. */
  get size(): number {
    return this.spares.length;
  }

  /**
   * A loaded process to claim: a spare at once, else the next one to finish loading (`urgent`:
   * ahead of the others). Rejects with ClaimError at `deadline`, or when the process started for
   * it dies before it is loaded.
   */
  acquire(urgent: boolean, deadline: number): Promise<ComputingProcess> {
    this.demand = demandAfterTake(this.demand, Date.now());
    const spare = this.takeSpare();
    if (spare !== undefined) {
      this.refillSoon();
      return Promise.resolve(spare);
    }
    if (this.closed) return Promise.reject(new ClaimError('the gateway is stopping'));
    return new Promise<ComputingProcess>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(
          () => {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            reject(new ClaimError('no process could be started in time'));
          },
          Math.max(0, deadline - Date.now()),
        ),
      };
      if (urgent) this.waiters.unshift(waiter);
      else this.waiters.push(waiter);
      void this.spawnFor(urgent);
      this.refillSoon();
    });
  }

  /** A process acquired and not claimed after all (its create was abandoned): back into the pool, or stopped. */
  giveBack(proc: ComputingProcess): void {
    if (proc.hasExited) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      waiter.resolve(proc);
    } else if (!this.closed && this.spares.length < this.plan().spares) this.spares.push(proc);
    else void proc.stop();
  }

  /**
   * Starts a spare when the pool holds fewer than wanted, one at a time (each one's load, then a
   * quiet moment, before the next): refilling is background work, and a burst of them would load
   * on the cores the work in progress needs (four at the gateway's start delayed a piped script's
   * first create by 400 ms). A start someone waits for does not wait for this. Stops the extra
   * spares when the room shrank.
   */
  refill(): void {
    if (this.closed) return;
    const { spares: wanted, refillsAtOnce } = this.plan();
    while (this.spares.length > wanted) void this.spares.pop()?.stop();
    if (wanted > this.wanted()) this.settleLater();
    const paused = this.refillsPausedUntil - Date.now();
    if (paused > 0) {
      this.refillAfter(paused);
      return;
    }
    while (this.refilling < refillsAtOnce && this.spares.length + this.loading.size + this.queued - this.waiters.length < wanted) {
      this.refilling++;
      void this.spawnFor(false).then(() => {
        this.refilling--;
        this.refillSoon();
      });
    }
  }

  /** The pool's size and refill rate now (demandPlan), within the node limit's room. */
  private plan(): { spares: number; refillsAtOnce: number } {
    const base = this.wanted();
    const plan = demandPlan(base, decayed(this.demand, Date.now()));
    return { spares: Math.max(base, Math.min(plan.spares, this.room())), refillsAtOnce: plan.refillsAtOnce };
  }

  /** Once a burst's demand has decayed, the extra spares go (refill stops what is over the plan). */
  private settleLater(): void {
    if (this.settleTimer !== null) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      this.refill();
    }, DEMAND_HALF_LIFE_MS);
    this.settleTimer.unref?.();
  }

  /**
   * Refills a moment later, once nothing is in flight or waiting (at most REFILL_MAX_WAIT_MS
   * later): spawning is synchronous in the gateway (a fork of a big process) and the new process
   * loads on the cores the claimed one needs now, so a create would pay for the refill it caused.
   */
  private refillSoon(): void {
    if (this.refillTimer !== null) return;
    const until = Date.now() + REFILL_MAX_WAIT_MS;
    const tick = (): void => {
      this.refillTimer = null;
      if (this.busy() && Date.now() < until) this.refillTimer = setTimeout(tick, REFILL_DELAY_MS);
      else this.refill();
    };
    this.refillTimer = setTimeout(tick, REFILL_DELAY_MS);
  }

  private cancelRefill(): void {
    if (this.refillTimer !== null) clearTimeout(this.refillTimer);
    this.refillTimer = null;
  }

  private refillAfter(ms: number): void {
    if (this.refillTimer !== null) return;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = null;
      this.refill();
    }, ms);
  }

  /** Stops every spare and every process still loading. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelRefill();
    if (this.settleTimer !== null) clearTimeout(this.settleTimer);
    this.settleTimer = null;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new ClaimError('the gateway is stopping'));
    }
    await Promise.all([...this.spares.splice(0), ...this.loading].map((proc) => proc.stop()));
  }

  private takeSpare(): ComputingProcess | undefined {
    for (;;) {
      const proc = this.spares.shift();
      if (proc === undefined || !proc.hasExited) return proc;
    }
  }

  /** Starts a process for the next waiter, or for the pool; resolves (never rejects) once it loaded or failed to. */
  private async spawnFor(urgent: boolean): Promise<void> {
    this.queued++;
    const release = await this.slots.acquire(urgent);
    this.queued--;
    try {
      if (this.closed) return;
      let proc: ComputingProcess;
      try {
        proc = this.spawn();
      } catch (error) {
        this.log.warn({ error: String(error) }, 'a computing process could not be spawned');
        return;
      }
      this.loading.add(proc);
      let hung = false;
      const timer = setTimeout(() => {
        hung = true;
        proc.kill();
      }, this.loadTimeoutMs);
      const loaded = await proc.loaded;
      clearTimeout(timer);
      this.loading.delete(proc);
      if (this.closed) {
        void proc.stop();
        return;
      }
      if (!loaded) {
        this.loadFailed(proc, hung ? `its process did not load within ${this.loadTimeoutMs} ms` : undefined);
        return;
      }
      if (this.loadFailures > 0) {
        // Loading works again: a refill waiting for the pause to end may run soon.
        this.loadFailures = 0;
        this.refillsPausedUntil = 0;
        this.cancelRefill();
        this.refillSoon();
      }
      this.giveBack(proc);
    } finally {
      release();
    }
  }

  /** A process died while loading: its waiter gets the reason, and refills pause (doubling). */
  private loadFailed(proc: ComputingProcess, reason?: string): void {
    const why = reason ?? proc.why ?? 'its process exited while loading';
    // Processes of one round that fail together count once: the pause doubles per round.
    if (Date.now() >= this.refillsPausedUntil) this.loadFailures++;
    const pauseMs = Math.min(LOAD_FAILURE_BACKOFF_MAX_MS, LOAD_FAILURE_BACKOFF_MS * 2 ** (this.loadFailures - 1));
    this.refillsPausedUntil = Date.now() + pauseMs;
    this.log.warn({ pid: proc.pid, why, refillsPausedMs: pauseMs }, 'a computing process died before it was loaded');
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      waiter.reject(new ClaimError(why));
    }
    // Paused now: this only schedules the next try for when the pause ends.
    this.refill();
  }
}

/** Starts in flight: enough to keep every core busy while one start waits on I/O. */
export const DEFAULT_START_SLOTS = Math.max(2, 2 * availableParallelism());

/**
 * At most N computing processes starting at once, the rest queued in order. A process start is
 * a Node boot's worth of CPU; starting a whole script's worth of nodes at once (200 creates piped in)
 * would make each start take seconds and every node late, and the gateway itself starved.
 * Restarts go before new creates: they bring back data that is already acknowledged.
 */
export class StartSlots {
  private busy = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly slots = DEFAULT_START_SLOTS) {}

  /** Resolves when a start may begin; call the returned function when it is over. */
  async acquire(urgent: boolean): Promise<() => void> {
    if (this.busy >= this.slots) {
      await new Promise<void>((resolve) => (urgent ? this.queue.unshift(resolve) : this.queue.push(resolve)));
    } else this.busy++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next === undefined) this.busy--;
      else next();
    };
  }
}
