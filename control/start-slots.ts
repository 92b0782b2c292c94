/**
 * @module At most N computing processes starting at once, the rest queued in order.
 *
 * A process start is about 130 ms of CPU; starting a whole script's worth of nodes at once
 * (200 creates piped in) would make each start take seconds and every node late, and the
 * gateway itself starved. Restarts go before new creates: they bring back data that is
 * already acknowledged.
 */
import { availableParallelism } from 'node:os';

/** Starts in flight: enough to keep every core busy while one start waits on I/O. */
export const DEFAULT_START_SLOTS = Math.max(2, 2 * availableParallelism());

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
