/**
 * @module Sending a command down the tree, or making it wait until it can be sent.
 *
 * A command for a node that is being created or restarted, or whose path to the control is
 * being re-linked, waits (within its deadline) and is sent the moment the path is whole; a
 * command for a node that is down for good or silent fails fast with the reason. Waiting
 * commands for one node are released in the order they came, and a new command for a node
 * that still has waiters queues behind them, so commands to one node keep their order.
 *
 * A relink (a rotation, a remove) holds the nodes whose path changes: commands for them wait
 * until the new links are in place, and nothing is sent into a path while it changes.
 *
 * No polling: waiters are re-examined when something about the tree changes (`wake`).
 */
import type { Message } from '../computing/protocol/index.js';
import { ArborError, nodeNotFound, nodeUnavailable } from './errors.js';
import type { Liveness } from './liveness.js';
import type { NodeHandle } from './node-handle.js';
import type { PendingRequests } from './pending-requests.js';
import type { RootLink } from './root-link.js';
import type { Topology } from './topology.js';

/** Can a command reach node `id` now: yes, not yet (wait), or no (the error says why). */
export type Reachability = 'ok' | 'wait' | ArborError;

interface Waiter {
  readonly id: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class Dispatch {
  /** Waiting commands, by target, in arrival order. */
  private readonly waiters = new Map<number, Waiter[]>();
  /** Nodes whose path is being relinked (how many holds each): nothing is sent to them meanwhile. */
  private readonly held = new Map<number, number>();
  private closed = false;
  private wakeQueued = false;

  constructor(
    private readonly shape: Topology,
    private readonly nodes: ReadonlyMap<number, NodeHandle>,
    private readonly liveness: Liveness,
    private readonly pending: PendingRequests,
    private readonly link: Pick<RootLink, 'send'>,
  ) {}

  /** Whether any command waits to be sent (its node starting, restarting or held by a relink). */
  get hasWaiting(): boolean {
    return this.waiters.size > 0;
  }

  /** Whether a command for `id` can be sent now, must wait, or fails (and why). */
  reachability(id: number): Reachability {
    const target = this.nodes.get(id);
    if (target === undefined || !this.shape.has(id)) return nodeNotFound(id);
    if (this.held.has(id)) return 'wait';
    if (target.available) return 'ok';
    // The topmost problem on the path decides: a failed ancestor fails fast even if the target restarts.
    for (const at of this.shape.pathTo(id)) {
      const node = this.nodes.get(at);
      if (node === undefined) return nodeNotFound(id);
      if (node.coming) return 'wait';
      const down = this.liveness.ownDown(node);
      if (down === undefined) continue;
      if (down.cause === 'detached') return 'wait';
      return nodeUnavailable(id, this.liveness.whyDown(id));
    }
    // Nothing wrong on the path, but not assessed available yet (a reassess is due): wait.
    return 'wait';
  }

  /** Sends `build(corr)` towards `target` once it can be reached; resolves with the reply. */
  request(target: number, deadline: number, build: (corr: number) => Buffer): Promise<Message> {
    if (this.closed) return Promise.reject(nodeUnavailable(target));
    const node = this.nodes.get(target);
    if (node?.available === true && !this.waiters.has(target) && !this.held.has(target)) return this.send(target, deadline, build);
    const now = this.reachability(target);
    if (now instanceof ArborError) return Promise.reject(now);
    if (now === 'ok' && !this.waiters.has(target)) return this.send(target, deadline, build);
    return this.whenReachable(target, deadline).then(() => this.send(target, deadline, build));
  }

  /**
   * Resolves once a command for `id` can be sent (in the order callers asked); rejects with the
   * reason when it cannot be, or with `onTimeout()` when `deadline` (ms since the epoch) passes.
   */
  whenReachable(id: number, deadline: number, onTimeout?: () => ArborError): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const queue = this.waiters.get(id) ?? [];
      const timer = setTimeout(
        () => {
          this.remove(waiter);
          reject(onTimeout?.() ?? nodeUnavailable(id, this.liveness.whyDown(id) ?? 'it was not reachable before the deadline'));
        },
        Math.max(0, deadline - Date.now()),
      );
      const waiter: Waiter = { id, resolve, reject, timer };
      queue.push(waiter);
      this.waiters.set(id, queue);
      // It may be reachable already (e.g. behind earlier waiters that are about to go).
      this.wakeSoon();
    });
  }

  /**
   * One wake for a burst of new waiters: a script's 4,000 commands queued behind its creates
   * ran 4,000 wakes over every waiting target, a tenth of the gateway's CPU in that second.
   */
  private wakeSoon(): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    queueMicrotask(() => {
      this.wakeQueued = false;
      this.wake();
    });
  }

  /** Something changed: release every waiter whose node can be reached, fail those that cannot. */
  wake(): void {
    for (const [id, queue] of [...this.waiters]) {
      const now = this.closed ? nodeUnavailable(id) : this.reachability(id);
      if (now === 'wait') continue;
      this.waiters.delete(id);
      for (const waiter of queue) {
        clearTimeout(waiter.timer);
        if (now === 'ok') waiter.resolve();
        else waiter.reject(now);
      }
    }
  }

  isHeld(id: number): boolean {
    return this.held.has(id);
  }

  /** Holds commands for `ids` (their paths are about to change). */
  hold(ids: Iterable<number>): void {
    for (const id of ids) this.held.set(id, (this.held.get(id) ?? 0) + 1);
  }

  /** Ends one hold of each of `ids`; commands go once no hold is left (the new links are in place). */
  release(ids: Iterable<number>): void {
    for (const id of ids) {
      const left = (this.held.get(id) ?? 1) - 1;
      if (left === 0) this.held.delete(id);
      else this.held.set(id, left);
    }
    this.wake();
  }

  /** Fails every waiting command (the control is closing). */
  close(): void {
    this.closed = true;
    this.wake();
  }

  private send(target: number, deadline: number, build: (corr: number) => Buffer): Promise<Message> {
    // Released a moment ago, and held again since (a relink began in between): wait again.
    if (this.held.has(target)) return this.whenReachable(target, deadline).then(() => this.send(target, deadline, build));
    const root = this.shape.root;
    if (root === null || this.closed) return Promise.reject(nodeUnavailable(target));
    const budget = Math.max(0, deadline - Date.now());
    const { corr, reply } = this.pending.add(target, budget, () =>
      nodeUnavailable(target, this.liveness.whyDown(target) ?? `no reply within ${budget} ms`),
    );
    this.link.send(root, build(corr));
    return reply;
  }

  private remove(waiter: Waiter): void {
    const queue = this.waiters.get(waiter.id);
    if (queue === undefined) return;
    const at = queue.indexOf(waiter);
    if (at !== -1) queue.splice(at, 1);
    if (queue.length === 0) this.waiters.delete(waiter.id);
  }
}
