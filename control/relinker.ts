/**
 * @module Changing the shape of a live tree: rebalancing after an insert (AVL rotations) and
 * removing a node, without restarting a process or moving a dictionary.
 *
 * One change at a time (a queue). Each is computed first as a new shape (balance.ts), then:
 * 1. hold the nodes whose path changes (only those: commands for the rest keep flowing);
 * 2. drain: wait until no request to a held node is in flight, and no create is linking;
 * 3. relink: take the new shape and send each live node whose place changed its new `link`;
 *    a child whose hello reaches its new parent before the parent's own link is held there;
 * 4. wait for their hellos through the tree (each proves its new path), at most LINK_WAIT_MS;
 * 5. release: held commands go, in the order they came.
 * Nothing in flight crosses a link while it changes, so nothing is lost or reordered; a request
 * never needs the old path back, because replies are matched by correlation id, not by route.
 */
import { affectedByRelink, type Counted, linkChanges, rebalanceFrom, removeNode, type Shape } from './balance.js';
import type { Dispatch } from './dispatch.js';
import { nodeNotFound } from './errors.js';
import type { NodeEvent } from './events.js';
import type { Liveness } from './liveness.js';
import type { Logger } from './logger.js';
import type { NodeHandle } from './node-handle.js';
import type { PendingRequests } from './pending-requests.js';
import type { Supervisor } from './supervisor.js';
import type { Topology } from './topology.js';

export type Balance = 'avl' | 'off';

export interface RelinkerCore {
  shape: Topology;
  nodes: Map<number, NodeHandle>;
  dispatch: Dispatch;
  pending: PendingRequests;
  liveness: Liveness;
  supervisor: Supervisor;
  log: Logger;
  emit(event: Omit<NodeEvent, 'time'>): void;
  reassess(): void;
  persist(): void;
  removeLog(id: number): void;
}

export class Relinker {
  private queue: Promise<void> = Promise.resolve();
  private removals = 0;
  private readonly removalsOf = new Map<number, Promise<void>>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly core: RelinkerCore,
    readonly balance: Balance,
  ) {}

  /** A node counts for balance once its process is attached (see balance.ts). */
  private readonly counted: Counted = (id) => this.core.nodes.get(id)?.state !== 'starting';

  /** A remove is queued or running: a create waits for it, as it would have typed after it. */
  get removing(): boolean {
    return this.removals > 0;
  }

  /** Resolves once no remove is queued or running. */
  whenNoRemoval(): Promise<void> {
    if (this.removals === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Node `id` was just attached as a leaf: restore the AVL rule above it. */
  rebalanceAfterInsert(id: number): Promise<void> {
    if (this.balance === 'off') return Promise.resolve();
    return this.enqueue(async () => {
      const before = this.core.shape.snapshot();
      const place = before.places.get(id);
      if (place === undefined) return;
      const after = rebalanceFrom(before, place.parent, this.counted);
      if (after !== before) await this.relink(before, after, [], `rebalance after inserting ${id}`);
    });
  }

  /**
   * Removes node `id`: its process is stopped (SIGTERM, then SIGKILL after a grace), its log
   * deleted, the tree relinked as a search-tree deletion does (its in-order successor takes its
   * place), then rebalanced. Rejects `not-found` for an unknown id.
   */
  remove(id: number): Promise<void> {
    if (!this.core.nodes.has(id)) return Promise.reject(nodeNotFound(id));
    this.removals++;
    const removal = this.enqueue(async () => {
      // Creates before it in the script finish first: nothing is mid-creation while it runs.
      await this.core.supervisor.noneStarting();
      const node = this.core.nodes.get(id);
      const before = this.core.shape.snapshot();
      if (node === undefined || !before.places.has(id)) throw nodeNotFound(id);
      const { shape: cut, fixFrom } = removeNode(before, id);
      const after = this.balance === 'avl' ? rebalanceFrom(cut, fixFrom, this.counted) : cut;
      await this.relink(before, after, [id], `remove ${id}`, () => this.core.supervisor.stopForRemove(node));
      this.core.nodes.delete(id);
      this.core.removeLog(id);
      this.core.emit({ kind: 'removed', id, reason: 'removed: its process stopped, its log deleted' });
      this.core.persist();
      this.core.reassess();
    }).finally(() => {
      if (--this.removals === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      if (this.removalsOf.get(id) === removal) this.removalsOf.delete(id);
    });
    this.removalsOf.set(id, removal);
    return removal;
  }

  /**
   * A remove of `id` that is queued or running: commands for it wait for it (and then find it
   * gone), as they would have if typed after its answer.
   */
  removalOf(id: number): Promise<void> | undefined {
    return this.removalsOf.get(id);
  }

  /**
   * A new heartbeat interval for the whole tree: libzmq takes its heartbeat settings when a
   * connection starts, so every link is remade, top-down, while every command is held (drained
   * first, so nothing in flight is on a link as it is remade).
   */
  reheartbeat(intervalMs: number, moveControl: (endpoint: string) => Promise<void>): Promise<void> {
    return this.enqueue(async () => {
      const all = this.core.shape.preorder().map((p) => p.id);
      const { dispatch, pending, supervisor } = this.core;
      const began = performance.now();
      dispatch.hold(all);
      try {
        await Promise.all([pending.drained(new Set(all)), supervisor.attachesSettled()]);
        await supervisor.reheartbeat(intervalMs, moveControl);
        this.core.log.info({ intervalMs, nodes: all.length, totalMs: Math.round(performance.now() - began) }, 'heartbeat settings applied to every link');
      } finally {
        dispatch.release(all);
        this.core.reassess();
      }
    });
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Steps 1 to 5 of the module comment; `between` runs after the drain, before the new links. */
  private async relink(before: Shape, after: Shape, removed: number[], what: string, between?: () => Promise<void>): Promise<void> {
    const { dispatch, pending, supervisor, liveness, shape } = this.core;
    const held = affectedByRelink(before, after, removed);
    const changes = linkChanges(before, after);
    const began = performance.now();
    dispatch.hold(held);
    try {
      await Promise.all([pending.drained(held), supervisor.attachesSettled()]);
      const drainedAt = performance.now();
      // Not judged from here on: a removed root's process is stopped next, and its disconnect is no outage.
      const newRoot = before.root !== after.root;
      if (newRoot && before.root !== null) liveness.unwatchRoot(before.root);
      await between?.();
      shape.replace(after);
      await supervisor.relink(changes);
      // Watched once its hello came through its new link to the control (not judged meanwhile).
      if (newRoot && after.root !== null) liveness.watchRoot(after.root);
      this.core.log.info(
        { what, held: held.size, links: changes.length, drainMs: Math.round(drainedAt - began), totalMs: Math.round(performance.now() - began) },
        `relinked: ${what}`,
      );
    } finally {
      dispatch.release(held);
      this.core.persist();
      this.core.reassess();
    }
  }
}
