/**
 * @module Commands on their way to a node: each one an Entry from the moment it is asked until
 * it ends, exactly once, with its reply or an error. An entry is sent down the tree at once when
 * its node can be reached, or waits (behind the earlier ones for the same node, so commands to
 * one node keep their order) until it can; a command for a node that is down fails fast.
 *
 * Every entry ends by its deadline (one timer for all, over a heap: a timer per request showed
 * in the gateway's CPU profile under load), by its caller's signal (one listener per signal,
 * however many of its commands are open: a Session's thousand commands share one), when its
 * node becomes unreachable while it is in flight, or when the control closes.
 *
 * A relink holds the nodes whose path changes: their commands wait, and `drained` tells when
 * none of them is in flight, so nothing crosses a link while it changes.
 */
import type { Message } from '../link/index.js';
import { DeadlineHeap } from '../lib/deadline-heap.js';
import { ArborError, cancelled, deadlineExceeded, nodeUnavailable, stopping } from './errors.js';

/**
 * Can a command reach node `id` now: yes; not yet (`wait`: something on its path is moving or
 * restarting); not before the node is created (`creating`: the create in progress bounds that
 * wait itself); or no (the error says why).
 */
export type Reach = 'ok' | 'wait' | 'creating' | ArborError;

/** One command's limits, fixed when it is asked (monotonic ms). */
export interface Call {
  /**
   * The control's own timeout: the command fails `unavailable` this long after it is asked, or,
   * when it waits for its node to be created, after the node is there (a script's `exec 8` sent
   * with `create 8` is answered as if typed after the create's answer).
   */
  readonly ownMs: number;
  /** The caller's deadline, if any: past it the command fails `deadline`. */
  readonly callerDeadline?: number;
  /** The caller gives up: it fails with the signal's reason (an ArborError), else `cancelled`. */
  readonly signal?: AbortSignal;
}

interface Entry {
  readonly corr: number;
  readonly target: number;
  readonly call: Call;
  /** When it ends unanswered (Infinity while it waits for its node's creation and the caller set none). */
  deadline: number;
  /** Its own timeout runs (it is not waiting for its node's creation any more). */
  timing: boolean;
  /** The request record to send; null: the caller only waits until the node can be reached. */
  readonly build: ((corr: number) => Buffer) | null;
  readonly resolve: (msg: Message | undefined) => void;
  readonly reject: (error: ArborError) => void;
  state: 'waiting' | 'sent' | 'done';
  /** When its request went down the tree (clock ms), if `answered` was set then; else -1. */
  sentAt: number;
}

/** What the requests need of the rest of the control. */
export interface RequestsCore {
  /** Whether `id` can be reached now (holds aside: those are kept here). */
  reach(id: number): Reach;
  /** Why `id` cannot be reached, for an error's reason. */
  whyDown(id: number): string | undefined;
  /** Sends a request record to the root. */
  send(record: Buffer): void;
  /** The control's shutdown: every command, waiting or in flight, ends with it (`unavailable`). */
  stopping: AbortSignal;
}

const MAX_CORR = 0xffff_ffff;

export class Requests {
  private readonly entries = new Map<number, Entry>();
  /** Waiting entries by target, in arrival order. */
  private readonly waiting = new Map<number, Entry[]>();
  /** Entries in flight per target (for `drained`). */
  private readonly sentTo = new Map<number, number>();
  private sentCount = 0;
  private readonly drains = new Set<{ targets: ReadonlySet<number>; resolve: () => void }>();
  /** Nodes whose path is being relinked (how many holds each): their commands wait. */
  private readonly held = new Map<number, number>();
  private readonly deadlines = new DeadlineHeap();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  /** The open entries of each caller signal, and its one listener. */
  private readonly bySignal = new Map<AbortSignal, { entries: Set<Entry>; listener: () => void }>();
  private nextCorr = 1;
  private wakeQueued = false;
  private closed = false;
  /**
   * Told of every reply with how long its request was in the tree (sent to answered, clock ms);
   * for metrics. Unset, the hot path reads no clock for it.
   */
  answered: ((target: number, ms: number) => void) | undefined;

  constructor(
    private readonly core: RequestsCore,
    private readonly clock: () => number = () => performance.now(),
  ) {
    core.stopping.addEventListener('abort', () => this.close(), { once: true });
  }

  /** Requests in the tree now. */
  get inFlight(): number {
    return this.sentCount;
  }

  /** Commands sent or waiting (the pool refills in quiet moments). */
  get busy(): boolean {
    return this.entries.size > 0;
  }

  /**
   * Sends `build(corr)` towards `target` once it can be reached, and resolves with the reply.
   * Rejects with an ArborError: `not-found`, `unavailable` (the node is down, its request
   * timeout passed, or it was lost in flight), `deadline` or `cancelled` (the caller's).
   */
  request(target: number, call: Call, build: (corr: number) => Buffer): Promise<Message> {
    return this.open(target, call, build) as Promise<Message>;
  }

  /** Resolves once a command for `target` could be sent now, in order with the others; rejects as `request` does. */
  whenReachable(target: number, call: Call): Promise<void> {
    return this.open(target, call, null).then(() => undefined);
  }

  /** Hands a reply to its entry; false when nobody waits for it (late or unknown). */
  settle(msg: Message): boolean {
    const entry = this.entries.get(msg.corr);
    if (entry === undefined || entry.state !== 'sent') return false;
    if (this.answered !== undefined && entry.sentAt >= 0) this.answered(entry.target, this.clock() - entry.sentAt);
    this.end(entry, msg);
    return true;
  }

  /** Fails one request in flight (the tree could not deliver it). */
  fail(corr: number, error: ArborError): void {
    const entry = this.entries.get(corr);
    if (entry?.state === 'sent') this.end(entry, error);
  }

  /** Fails the requests in flight whose target matches (e.g. routed through a node whose process is gone). */
  failWhere(matches: (target: number) => ArborError | undefined): void {
    for (const entry of this.entries.values()) {
      if (entry.state !== 'sent') continue;
      const error = matches(entry.target);
      if (error !== undefined) this.end(entry, error);
    }
  }

  /** Holds commands for `ids` (their paths are about to change). */
  hold(ids: Iterable<number>): void {
    for (const id of ids) this.held.set(id, (this.held.get(id) ?? 0) + 1);
  }

  /** Ends one hold of each of `ids`; their commands go once no hold is left. */
  release(ids: Iterable<number>): void {
    for (const id of ids) {
      const left = (this.held.get(id) ?? 1) - 1;
      if (left === 0) this.held.delete(id);
      else this.held.set(id, left);
    }
    this.wake();
  }

  isHeld(id: number): boolean {
    return this.held.has(id);
  }

  /** Resolves once no request to any of `targets` is in flight (every request ends by its deadline, so this does too). */
  drained(targets: ReadonlySet<number>): Promise<void> {
    const inFlight = (): boolean => [...targets].some((t) => (this.sentTo.get(t) ?? 0) > 0);
    if (!inFlight()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const drain = {
        targets,
        resolve: () => {
          if (inFlight()) return;
          this.drains.delete(drain);
          resolve();
        },
      };
      this.drains.add(drain);
    });
  }

  /** Something changed: send what can go now, fail what cannot, in one pass for a burst of changes. */
  wake(): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    queueMicrotask(() => {
      this.wakeQueued = false;
      this.flushWaiting();
    });
  }

  /** Fails every command, waiting or in flight (the control is closing); later ones fail at once. */
  private close(): void {
    this.closed = true;
    for (const entry of [...this.entries.values()]) this.end(entry, stopping(entry.target));
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private open(target: number, call: Call, build: ((corr: number) => Buffer) | null): Promise<Message | undefined> {
    if (this.closed) return Promise.reject(stopping(target));
    if (call.signal?.aborted === true) return Promise.reject(abortError(call.signal));
    const now = this.reachNow(target);
    if (now instanceof ArborError) return Promise.reject(now);
    return new Promise<Message | undefined>((resolve, reject) => {
      const entry: Entry = { corr: this.allocate(), target, call, deadline: Infinity, timing: false, build, resolve, reject, state: 'waiting', sentAt: -1 };
      this.entries.set(entry.corr, entry);
      this.setDeadline(entry, now !== 'creating');
      if (call.signal !== undefined) this.listen(call.signal, entry);
      const queue = this.waiting.get(target);
      // Behind earlier commands for the same node, whatever the node's state: they keep their order.
      if (now === 'ok' && queue === undefined) this.go(entry);
      else if (queue === undefined) this.waiting.set(target, [entry]);
      else queue.push(entry);
    });
  }

  /** Whether `id` can be reached now, holds included. */
  private reachNow(id: number): Reach {
    const reach = this.core.reach(id);
    return reach === 'ok' && this.held.has(id) ? 'wait' : reach;
  }

  private flushWaiting(): void {
    for (const [target, queue] of [...this.waiting]) {
      const now = this.closed ? stopping(target) : this.reachNow(target);
      if (now === 'creating') continue;
      // Its node is there now: the command's own timeout starts.
      for (const entry of queue) if (!entry.timing) this.setDeadline(entry, true);
      if (now === 'wait') continue;
      this.waiting.delete(target);
      for (const entry of queue) {
        if (entry.state !== 'waiting') continue;
        if (now === 'ok') this.go(entry);
        else this.end(entry, now);
      }
    }
  }

  /** The entry's node can be reached: send its request, or let its caller go on. */
  private go(entry: Entry): void {
    if (entry.build === null) return this.end(entry, undefined);
    entry.state = 'sent';
    if (this.answered !== undefined) entry.sentAt = this.clock();
    this.sentCount++;
    this.sentTo.set(entry.target, (this.sentTo.get(entry.target) ?? 0) + 1);
    this.core.send(entry.build(entry.corr));
  }

  /** Ends an entry once: with its reply (or, for a wait, nothing), or with an error. */
  private end(entry: Entry, outcome: Message | undefined | ArborError): void {
    const was = entry.state;
    if (was === 'done') return;
    entry.state = 'done';
    this.entries.delete(entry.corr);
    if (was === 'sent') {
      this.sentCount--;
      const left = (this.sentTo.get(entry.target) ?? 1) - 1;
      if (left === 0) this.sentTo.delete(entry.target);
      else this.sentTo.set(entry.target, left);
      if (this.drains.size > 0) for (const drain of [...this.drains]) if (drain.targets.has(entry.target)) drain.resolve();
    } else {
      const queue = this.waiting.get(entry.target);
      const at = queue?.indexOf(entry) ?? -1;
      if (queue !== undefined && at !== -1) {
        queue.splice(at, 1);
        if (queue.length === 0) this.waiting.delete(entry.target);
      }
    }
    if (entry.call.signal !== undefined) this.unlisten(entry.call.signal, entry);
    if (outcome instanceof ArborError) entry.reject(outcome);
    else entry.resolve(outcome);
  }

  private listen(signal: AbortSignal, entry: Entry): void {
    let group = this.bySignal.get(signal);
    if (group === undefined) {
      const entries = new Set<Entry>();
      const listener = (): void => {
        const error = abortError(signal);
        for (const open of [...entries]) this.end(open, error);
      };
      group = { entries, listener };
      this.bySignal.set(signal, group);
      signal.addEventListener('abort', listener, { once: true });
    }
    group.entries.add(entry);
  }

  /** The last open entry of a signal unhooks its listener (a long-lived signal keeps nothing of ours). */
  private unlisten(signal: AbortSignal, entry: Entry): void {
    const group = this.bySignal.get(signal);
    if (group === undefined) return;
    group.entries.delete(entry);
    if (group.entries.size > 0) return;
    this.bySignal.delete(signal);
    signal.removeEventListener('abort', group.listener);
  }

  /** The entry's deadline: the caller's, or its own timeout from now when `timing` starts it, whichever comes first. */
  private setDeadline(entry: Entry, timing: boolean): void {
    entry.timing = timing;
    const own = timing ? this.clock() + entry.call.ownMs : Infinity;
    entry.deadline = Math.min(own, entry.call.callerDeadline ?? Infinity);
    if (entry.deadline === Infinity) return;
    this.deadlines.push(entry.deadline, entry.corr);
    if (entry.deadline < this.timerAt) this.arm(entry.deadline);
  }

  private timedOut(entry: Entry): ArborError {
    if (entry.call.callerDeadline !== undefined && entry.call.callerDeadline <= entry.deadline) return deadlineExceeded();
    const why = this.core.whyDown(entry.target);
    if (why !== undefined) return nodeUnavailable(entry.target, why);
    return nodeUnavailable(entry.target, entry.state === 'sent' ? 'no reply before the request timeout' : 'it could not be reached before the request timeout');
  }

  private readonly expire = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.clock();
    while (this.deadlines.size > 0 && this.deadlines.peekDeadline() <= now) {
      const corr = this.deadlines.peekCorr() as number;
      const deadline = this.deadlines.peekDeadline();
      this.deadlines.pop();
      // The same corr may have ended and been reused since: only its own deadline counts.
      const entry = this.entries.get(corr);
      if (entry !== undefined && entry.deadline === deadline) this.end(entry, this.timedOut(entry));
    }
    // Ended entries leave the top of the heap here, lazily.
    while (this.deadlines.size > 0) {
      const entry = this.entries.get(this.deadlines.peekCorr() as number);
      if (entry !== undefined && entry.deadline === this.deadlines.peekDeadline()) break;
      this.deadlines.pop();
    }
    if (this.deadlines.size > 0) this.arm(this.deadlines.peekDeadline());
  };

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

/** The error a command fails with when its caller's signal aborts. */
function abortError(signal: AbortSignal): ArborError {
  return signal.reason instanceof ArborError ? signal.reason : cancelled();
}
