/**
 * @module Hung nodes: a node that stays silent by itself (frozen, or its event loop blocked) for
 * `hangRestartMs` is killed, so that its exit brings the usual restart.
 *
 * Only silence of its own counts (a node cut off by its parent's silence is not hung), and not
 * while its host is away: the agent cannot be asked to kill it then.
 */
import type { Liveness } from './liveness.js';
import type { Logger } from './logger.js';
import type { NodeHandle } from './node-handle.js';

/** What the hang watch needs of the rest of the control. */
export interface HangWatchCore {
  nodes: ReadonlyMap<number, NodeHandle>;
  liveness: Pick<Liveness, 'ownDown'>;
  log: Logger;
}

export class HangWatch {
  private readonly hangTimers = new Map<number, NodeJS.Timeout>();

  constructor(
    private readonly core: HangWatchCore,
    /** Kill a node silent by itself for this long (0: never). */
    private readonly hangRestartMs: number,
  ) {}

  /** Starts or stops the hang clocks of nodes silent by themselves (availability was re-derived). */
  watch(): void {
    if (this.hangRestartMs === 0) return;
    for (const node of this.core.nodes.values()) {
      // Not one whose host is away: the agent cannot be asked to kill it, and it is not hung.
      const silent = node.state === 'running' && !node.hostLost && this.core.liveness.ownDown(node)?.cause === 'silence';
      if (!silent) this.clear(node.id);
      else if (!this.hangTimers.has(node.id)) {
        const timer = setTimeout(() => this.hung(node), this.hangRestartMs);
        timer.unref();
        this.hangTimers.set(node.id, timer);
      }
    }
  }

  /** Stops `id`'s hang clock (its process exited, or is being stopped). */
  clear(id: number): void {
    const timer = this.hangTimers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.hangTimers.delete(id);
  }

  /** Stops every hang clock (the control is closing). */
  clearAll(): void {
    for (const id of [...this.hangTimers.keys()]) this.clear(id);
  }

  private hung(node: NodeHandle): void {
    this.hangTimers.delete(node.id);
    if (node.state !== 'running' || node.process === null || this.core.liveness.ownDown(node)?.cause !== 'silence') return;
    node.hangKilled = true;
    node.reason = `killed by the control: silent for ${this.hangRestartMs} ms (hung)`;
    this.core.log.warn({ node: node.id, hangRestartMs: this.hangRestartMs }, 'node hung: killing it to restart it');
    node.process.kill();
  }
}
