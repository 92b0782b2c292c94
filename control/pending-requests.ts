/**
 * @module Requests sent into the tree and not yet answered: one map from correlation id to the
 * waiting caller, each with a deadline, so every request ends with a reply or an error.
 *
 * Deadlines live in a heap served by a single timer (a timer per request cost about 7 % of the
 * gateway's CPU under load). Answered requests leave the heap lazily, when their deadline
 * comes up or when the timer is re-armed.
 */
import type { Message } from '../computing/protocol/index.js';
import { DeadlineHeap } from './deadline-heap.js';

interface Entry {
  readonly target: number;
  readonly resolve: (msg: Message) => void;
  readonly reject: (error: Error) => void;
  /** The error this request fails with when its target cannot answer (timeout, loss). */
  readonly unavailable: () => Error;
  readonly deadline: number;
}

const MAX_CORR = 0xffff_ffff;

interface DrainWaiter {
  readonly targets: ReadonlySet<number>;
  remaining: number;
  readonly resolve: () => void;
}

export class PendingRequests {
  private readonly entries = new Map<number, Entry>();
  /** Requests in flight per target, so a drain knows at once how many it waits for. */
  private readonly perTarget = new Map<number, number>();
  private readonly drains = new Set<DrainWaiter>();
  private readonly deadlines = new DeadlineHeap();
  private nextCorr = 1;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;

  constructor(private readonly clock: () => number = () => performance.now()) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Registers a request to `target`. The promise resolves with the reply, or rejects with
   * `unavailable()` after `timeoutMs` or when {@link fail} / {@link failWhere} ends it.
   */
  add(target: number, timeoutMs: number, unavailable: () => Error): { corr: number; reply: Promise<Message> } {
    const corr = this.allocate();
    const deadline = this.clock() + timeoutMs;
    const reply = new Promise<Message>((resolve, reject) => {
      this.entries.set(corr, { target, resolve, reject, unavailable, deadline });
    });
    this.perTarget.set(target, (this.perTarget.get(target) ?? 0) + 1);
    this.deadlines.push(deadline, corr);
    if (deadline < this.timerAt) this.arm(deadline);
    return { corr, reply };
  }

  /** Hands a reply to its waiter; false when nobody waits for it (late or unknown). */
  settle(msg: Message): boolean {
    const entry = this.entries.get(msg.corr);
    if (entry === undefined) return false;
    this.forget(msg.corr, entry);
    entry.resolve(msg);
    return true;
  }

  /** Fails one request now, with `error` or else its own unavailable error. */
  fail(corr: number, error?: Error): void {
    const entry = this.entries.get(corr);
    if (entry === undefined) return;
    this.forget(corr, entry);
    entry.reject(error ?? entry.unavailable());
  }

  /**
   * Resolves once no request to any of `targets` is in flight (the caller holds new ones back).
   * Every request ends by its deadline, so this does too.
   */
  drained(targets: ReadonlySet<number>): Promise<void> {
    let remaining = 0;
    for (const target of targets) remaining += this.perTarget.get(target) ?? 0;
    if (remaining === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.drains.add({ targets, remaining, resolve }));
  }

  private forget(corr: number, entry: Entry): void {
    this.entries.delete(corr);
    const left = (this.perTarget.get(entry.target) ?? 1) - 1;
    if (left === 0) this.perTarget.delete(entry.target);
    else this.perTarget.set(entry.target, left);
    for (const drain of this.drains) {
      if (!drain.targets.has(entry.target) || --drain.remaining > 0) continue;
      this.drains.delete(drain);
      drain.resolve();
    }
  }

  /** Fails now every request whose target matches, e.g. all requests routed through a dead node. */
  failWhere(matches: (target: number) => boolean): void {
    for (const [corr, entry] of this.entries) {
      if (matches(entry.target)) this.fail(corr);
    }
  }

  private readonly expire = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.clock();
    while (this.deadlines.size > 0 && this.deadlines.peekDeadline() <= now) {
      const corr = this.deadlines.peekCorr() as number;
      const deadline = this.deadlines.peekDeadline();
      this.deadlines.pop();
      // The same corr may have been answered and reused since: only its own deadline counts.
      if (this.entries.get(corr)?.deadline === deadline) this.fail(corr);
    }
    this.armNext();
  };

  /** Drops answered requests from the top of the heap, then arms the timer for the first live one. */
  private armNext(): void {
    while (this.deadlines.size > 0) {
      const corr = this.deadlines.peekCorr() as number;
      if (this.entries.get(corr)?.deadline === this.deadlines.peekDeadline()) break;
      this.deadlines.pop();
    }
    if (this.deadlines.size > 0) this.arm(this.deadlines.peekDeadline());
  }

  private arm(deadline: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = deadline;
    this.timer = setTimeout(this.expire, Math.max(0, Math.ceil(deadline - this.clock())));
    this.timer.unref();
  }

  private allocate(): number {
    for (;;) {
      const corr = this.nextCorr;
      this.nextCorr = corr === MAX_CORR ? 1 : corr + 1;
      if (!this.entries.has(corr)) return corr;
    }
  }
}
