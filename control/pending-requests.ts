/**
 * @module Requests sent into the tree and not yet answered: one map from correlation id to the
 * waiting caller, each with a deadline, so every request ends with a reply or an error.
 */
import type { Message } from '../computing/protocol/index.js';

interface Entry {
  readonly target: number;
  readonly resolve: (msg: Message) => void;
  readonly reject: (error: Error) => void;
  /** The error this request fails with when its target cannot answer (timeout, loss). */
  readonly unavailable: () => Error;
  readonly timer: NodeJS.Timeout;
}

const MAX_CORR = 0xffff_ffff;

export class PendingRequests {
  private readonly entries = new Map<number, Entry>();
  private nextCorr = 1;

  get size(): number {
    return this.entries.size;
  }

  /**
   * Registers a request to `target`. The promise resolves with the reply, or rejects with
   * `unavailable()` after `timeoutMs` or when {@link fail} / {@link failWhere} ends it.
   */
  add(target: number, timeoutMs: number, unavailable: () => Error): { corr: number; reply: Promise<Message> } {
    const corr = this.allocate();
    const reply = new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(corr), timeoutMs);
      this.entries.set(corr, { target, resolve, reject, unavailable, timer });
    });
    return { corr, reply };
  }

  /** Hands a reply to its waiter; false when nobody waits for it (late or unknown). */
  settle(msg: Message): boolean {
    const entry = this.entries.get(msg.corr);
    if (entry === undefined) return false;
    this.entries.delete(msg.corr);
    clearTimeout(entry.timer);
    entry.resolve(msg);
    return true;
  }

  /** Fails one request now, with `error` or else its own unavailable error. */
  fail(corr: number, error?: Error): void {
    const entry = this.entries.get(corr);
    if (entry === undefined) return;
    this.entries.delete(corr);
    clearTimeout(entry.timer);
    entry.reject(error ?? entry.unavailable());
  }

  /** Fails now every request whose target matches, e.g. all requests routed through a dead node. */
  failWhere(matches: (target: number) => boolean): void {
    for (const [corr, entry] of this.entries) {
      if (matches(entry.target)) this.fail(corr);
    }
  }

  private allocate(): number {
    for (;;) {
      const corr = this.nextCorr;
      this.nextCorr = corr === MAX_CORR ? 1 : corr + 1;
      if (!this.entries.has(corr)) return corr;
    }
  }
}
