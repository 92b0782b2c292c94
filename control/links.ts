/**
 * @module The tree's links, which the control alone writes: telling each node its place (a
 * `link` on its control channel: its parent's endpoint and its two children) and matching the
 * hellos that answer through the tree, each of which proves the node's path to the control.
 * Every link carries a new epoch; a hello answers the links up to its own.
 *
 * Three kinds of linking, all here:
 * - a created node's first link, once its parent can pass its hello on (`attachNew`);
 * - a running node whose path must be made again (its own process or its parent's was
 *   replaced): linked again once its parent is linked (`attachPending`, after every change);
 * - changes of the shape, one at a time (`afterInsert`, `remove`): computed as a new shape
 *   (balance.ts), then 1. hold the nodes whose path changes (only those: commands for the rest
 *   keep flowing); 2. drain: wait until none of their requests is in flight, and no create is
 *   linking; 3. take the new shape and send each node whose place changed its new link; 4. wait
 *   for their hellos; 5. release: held commands go, in the order they came. Nothing in flight
 *   crosses a link while it changes, so nothing is lost or reordered; a request never needs the
 *   old path back, because replies are matched by correlation id, not by route.
 */
import type { PeerSpec, ToNode } from '../link/index.js';
import type { Logger } from '../lib/logger.js';
import type { NodeEvent } from './api.js';
import { affectedByRelink, type Counted, linkChanges, rebalanceFrom, removeNode, type Shape } from './balance.js';
import { ArborError, nodeNotFound, nodeUnavailable, parentUnavailable } from './errors.js';
import type { NodeHandle } from './node.js';
import type { Call, Reach, Requests } from './requests.js';
import type { Topology } from './topology.js';

/** What the links need of the rest of the control. */
export interface LinksCore {
  shape: Topology;
  node(id: number): NodeHandle | undefined;
  all(): Iterable<NodeHandle>;
  requests: Pick<Requests, 'hold' | 'release' | 'drained' | 'isHeld' | 'whenReachable'>;
  /** Whether a command can reach `id` now, holds included. */
  reach(id: number): Reach;
  /** Whether `id` and everything above it serve now (a hello can pass through it). */
  isAvailable(id: number): boolean;
  /** Where a root on `host` connects (the control's endpoint: ipc here, tcp with CURVE from elsewhere). */
  controlEndpoint(host: string): string | undefined;
  /** Something about the tree changed: re-derive what follows (availability, waiters, links). */
  changed(): void;
  emit(event: Omit<NodeEvent, 'time'>): void;
  persist(): void;
  /** Stops a removed node's process for good. */
  stopForRemove(node: NodeHandle): Promise<void>;
  /** Forgets a removed node (its handle and its log). */
  forget(id: number): void;
  log: Logger;
  /** The control's shutdown: no more linking, and what waits for a hello is let go. */
  stopping: AbortSignal;
}

export interface LinkTimings {
  /** A link whose hello has not come back by then is sent again. */
  retryMs: number;
  /** How long a moved node has for its hello before it is left to `attachPending`. */
  moveMs: number;
  /** How long a created node has for its first hello. */
  startMs: number;
}

export const LINK_TIMINGS: LinkTimings = { retryMs: 1000, moveMs: 5000, startMs: 10_000 };

export class Links {
  private epoch = 0;
  /** Hellos awaited per node: epoch → what to call when it (or a later one) comes. */
  private readonly awaited = new Map<number, Map<number, () => void>>();
  /** Running nodes being linked again now (not twice at once). */
  private readonly attaching = new Set<number>();
  /** Creates sending their new node its first link: a relink waits for them. */
  private readonly creating = new Set<Promise<unknown>>();
  /** Shape changes run one at a time. */
  private queue: Promise<void> = Promise.resolve();
  private readonly removals = new Map<number, Promise<void>>();
  private pendingRemovals = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly noneStartingWaiters: (() => void)[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly core: LinksCore,
    readonly balance: 'avl' | 'off',
    private readonly timings: LinkTimings = LINK_TIMINGS,
  ) {
    core.stopping.addEventListener('abort', () => this.close(), { once: true });
  }

  /** A node counts for balance once its process is attached (see balance.ts). */
  private readonly counted: Counted = (id) => this.core.node(id)?.state.t !== 'starting';

  /** A hello came up the tree: node `id` answered link `epoch`, holding `keys` names. False when nobody waited for it. */
  hello(id: number, epoch: number, keys: number): boolean {
    const waiting = this.awaited.get(id);
    const node = this.core.node(id);
    if (waiting === undefined || node === undefined) return false;
    let answered = false;
    for (const [sent, resolve] of waiting) {
      if (sent > epoch) continue;
      waiting.delete(sent);
      resolve();
      answered = true;
    }
    if (waiting.size === 0) this.awaited.delete(id);
    // A stale hello (an older link's) may predate stores already counted: only a current one resets the count.
    if (answered) node.keys = keys;
    return answered;
  }

  /**
   * A created node's first link: waits until its parent can be reached (a parent being created,
   * moved or restarted is waited for; one that is down fails the create with `Parent N is
   * unavailable`) and its process is ready, tells the parent of its new child, links it and
   * waits for its hello. Until then a rotation may carry it elsewhere: it follows its parent.
   */
  async attachNew(node: NodeHandle, started: Promise<void>, call: Call): Promise<void> {
    const parentOf = (): number | null => this.core.shape.get(node.id)?.parent ?? null;
    let parent = parentOf();
    for (;;) {
      if (parent !== null) {
        const above = parent;
        await this.core.requests.whenReachable(above, call).catch((error: unknown) => {
          throw asParentError(above, error);
        });
      }
      await started;
      const now = parentOf();
      if (now === parent && (parent === null || this.core.reach(parent) === 'ok')) break;
      parent = now;
    }
    // From the check above to here nothing yields: a relink cannot begin in between, and it
    // waits for this attach (`creating`) before it changes any link.
    const above = parent;
    const first = (async () => {
      if (above !== null) this.tell(this.core.node(above) as NodeHandle);
      const linked = await this.linkUntil(node, Math.min(call.callerDeadline ?? Infinity, performance.now() + this.timings.startMs), call.signal);
      if (linked) return;
      if (call.signal?.aborted === true) throw call.signal.reason instanceof ArborError ? call.signal.reason : nodeUnavailable(node.id);
      throw above === null ? nodeUnavailable(node.id, 'the new process did not connect in time') : parentUnavailable(above, 'the new process did not connect through it in time');
    })();
    this.creating.add(first);
    try {
      await first;
    } finally {
      this.creating.delete(first);
    }
  }

  /** Called after every change: links nodes whose path must be made again, and wakes who waits for the tree to settle. */
  afterChange(): void {
    if (this.closed) return;
    this.attachPending();
    if (this.noneStartingWaiters.length > 0 && !this.anyStarting()) for (const resolve of this.noneStartingWaiters.splice(0)) resolve();
  }

  /** Node `id` was just attached as a leaf: restore the AVL rule above it. Resolves once the tree is balanced again. */
  afterInsert(id: number): Promise<void> {
    if (this.balance === 'off') return Promise.resolve();
    return this.enqueue(() =>
      this.relink(`rebalance after inserting ${id}`, [], (shape) => {
        const place = shape.places.get(id);
        return place === undefined ? shape : rebalanceFrom(shape, place.parent, this.counted);
      }),
    );
  }

  /** A remove is queued or running: a create waits for it, as it would have had it been typed after. */
  get removing(): boolean {
    return this.pendingRemovals > 0;
  }

  /** Resolves once no remove is queued or running. */
  whenNoRemoval(): Promise<void> {
    if (this.pendingRemovals === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** A remove of `id` queued or running: commands for it wait for it (and then find it gone). */
  removalOf(id: number): Promise<void> | undefined {
    return this.removals.get(id);
  }

  /**
   * Removes node `id`: `decide` runs first (it saves the decision; when it throws, the remove
   * fails with nothing changed), then its process is stopped (SIGTERM, then SIGKILL after a
   * grace), its log deleted, the tree relinked as a search-tree deletion does (its in-order
   * successor takes its place), then rebalanced. Rejects `not-found` for an unknown id.
   */
  remove(id: number, decide: () => void, reason = 'removed: its process stopped, its log deleted'): Promise<void> {
    if (this.core.node(id) === undefined) return Promise.reject(nodeNotFound(id));
    this.pendingRemovals++;
    const removal = this.enqueue(async () => {
      // Creates before it in the script finish first: nothing is mid-creation while it runs.
      await this.noneStarting();
      const node = this.core.node(id);
      if (node === undefined || !this.core.shape.has(id)) throw nodeNotFound(id);
      decide();
      await this.relink(
        `remove ${id}`,
        [id],
        (shape) => {
          const { shape: cut, fixFrom } = removeNode(shape, id);
          return this.balance === 'avl' ? rebalanceFrom(cut, fixFrom, this.counted) : cut;
        },
        () => this.core.stopForRemove(node),
      );
      this.core.forget(id);
      this.core.emit({ kind: 'removed', id, reason });
      this.core.persist();
      this.core.changed();
    }).finally(() => {
      if (--this.pendingRemovals === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      if (this.removals.get(id) === removal) this.removals.delete(id);
    });
    this.removals.set(id, removal);
    return removal;
  }

  /** No more linking (the control is closing): what waits for a hello is let go. */
  private close(): void {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    for (const waiting of this.awaited.values()) for (const resolve of waiting.values()) resolve();
    this.awaited.clear();
    for (const resolve of this.noneStartingWaiters.splice(0)) resolve();
  }

  private anyStarting(): boolean {
    for (const node of this.core.all()) if (node.state.t === 'starting') return true;
    return false;
  }

  private noneStarting(): Promise<void> {
    if (!this.anyStarting()) return Promise.resolve();
    return new Promise((resolve) => this.noneStartingWaiters.push(resolve));
  }

  /** Links every running node whose path must be made again, once the node above it can pass its hello on. */
  private attachPending(): void {
    const { shape } = this.core;
    for (const place of shape.preorder()) {
      const node = this.core.node(place.id);
      if (node === undefined || node.state.t !== 'running' || node.linked || this.attaching.has(place.id)) continue;
      // Not into a path that is being relinked: the relink places it.
      if (this.core.requests.isHeld(place.id)) continue;
      const parent = place.parent === null ? undefined : this.core.node(place.parent);
      if (parent !== undefined && !(parent.linked && this.core.isAvailable(parent.id))) continue;
      this.attaching.add(place.id);
      // Its parent learns its (new) process first; a hello that beats that is held there.
      if (parent !== undefined) this.tell(parent);
      void this.linkUntil(node, performance.now() + this.timings.moveMs).then((linked) => {
        this.attaching.delete(place.id);
        if (linked) node.setLinked(true, 'its path is made again');
        else this.retrySoon();
      });
    }
  }

  /** Runs attachPending again a moment later (a link that was not answered: its path may work by then). */
  private retrySoon(): void {
    if (this.retryTimer !== null || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.core.changed();
    }, this.timings.retryMs);
    this.retryTimer.unref();
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.queue.then(op);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * The steps of the module comment, for the change `plan` makes to a shape; `between` runs
   * after the drain, before the new links. The plan is computed again on the shape as it is once
   * the drain is over (a create may have placed a new leaf meanwhile), and whatever more it moves
   * is held and drained as well, so that the shape taken is the plan of the shape it replaces.
   */
  private async relink(what: string, removed: number[], plan: (shape: Shape) => Shape, between?: () => Promise<void>): Promise<void> {
    const { requests, shape } = this.core;
    const began = performance.now();
    const held = new Set<number>();
    const holdMore = (ids: Iterable<number>): void => {
      const more = [...ids].filter((id) => !held.has(id));
      requests.hold(more);
      for (const id of more) held.add(id);
    };
    try {
      let before = shape.snapshot();
      holdMore(affectedByRelink(before, plan(before), removed));
      await Promise.all([requests.drained(held), this.createsSettled()]);
      await between?.();
      let after: Shape;
      for (;;) {
        before = shape.snapshot();
        after = plan(before);
        const moved = affectedByRelink(before, after, removed);
        if ([...moved].every((id) => held.has(id))) break;
        holdMore(moved);
        await Promise.all([requests.drained(held), this.createsSettled()]);
      }
      const drainedAt = performance.now();
      if (after === before) return;
      // From the last plan to here nothing yields: the shape taken is the plan of the shape it replaces.
      shape.replace(after);
      const changes = linkChanges(before, after);
      const answers: Promise<void>[] = [];
      for (const change of changes) {
        const node = this.core.node(change.id);
        // A node still starting is placed from the shape when it attaches; one restarting, when it is back.
        if (node === undefined || node.state.t !== 'running') continue;
        if (before.places.get(change.id)?.parent !== change.parent) node.setLinked(false, `moved: ${what}`);
        // Unanswered ones stay unlinked: attachPending links them once their path works.
        answers.push(this.linkUntil(node, performance.now() + this.timings.moveMs).then((linked) => (linked ? node.setLinked(true, `linked: ${what}`) : undefined)));
      }
      await Promise.all(answers);
      this.core.log.info(
        { what, held: held.size, links: changes.length, drainMs: Math.round(drainedAt - began), totalMs: Math.round(performance.now() - began) },
        `relinked: ${what}`,
      );
    } finally {
      requests.release(held);
      this.core.persist();
      this.core.changed();
    }
  }

  /** Resolves once no create is sending its new node its first link. */
  private async createsSettled(): Promise<void> {
    await Promise.all([...this.creating].map((c) => c.catch(() => undefined)));
  }

  /** Sends `node` its place, without waiting for its answer (a parent learning of a new child). */
  private tell(node: NodeHandle): void {
    void this.linkUntil(node, performance.now() + this.timings.retryMs);
  }

  /**
   * Sends `node` its place and resolves true when its hello comes back; the link is sent again
   * every `retryMs` until `deadline` (monotonic ms), when it resolves false. False at once when
   * it cannot be sent (no process, no parent endpoint yet) or the signal aborts.
   */
  private async linkUntil(node: NodeHandle, deadline: number, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      const proc = node.process;
      const message = this.linkMessage(node);
      if (proc === null || message === undefined || this.closed || signal?.aborted === true) return false;
      const epoch = ++this.epoch;
      const wait = Math.max(0, Math.min(deadline, performance.now() + this.timings.retryMs) - performance.now());
      const answered = await new Promise<boolean>((resolve) => {
        let waiting = this.awaited.get(node.id);
        if (waiting === undefined) this.awaited.set(node.id, (waiting = new Map<number, () => void>()));
        const finish = (ok: boolean): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.awaited.get(node.id)?.delete(epoch);
          if (this.awaited.get(node.id)?.size === 0) this.awaited.delete(node.id);
          resolve(ok);
        };
        const onAbort = (): void => finish(false);
        const timer = setTimeout(() => finish(false), wait);
        signal?.addEventListener('abort', onAbort, { once: true });
        waiting.set(epoch, () => finish(true));
        this.core.log.debug({ node: node.id, epoch, parent: message.parent, left: message.left, right: message.right }, 'link sent');
        proc.send({ ...message, epoch });
      });
      if (answered) return true;
      if (performance.now() >= deadline || node.process !== proc) return false;
    }
  }

  /** The link `node` must be sent now, from the current shape; undefined while its parent has no endpoint. */
  private linkMessage(node: NodeHandle): Omit<Extract<ToNode, { t: 'link' }>, 'epoch'> | undefined {
    const place = this.core.shape.get(node.id);
    if (place === undefined) return undefined;
    const parent = this.parentEndpoint(node, place.parent);
    if (parent === undefined) return undefined;
    return { t: 'link', parent, left: this.specOf(place.left), right: this.specOf(place.right) };
  }

  /** Where `node`'s uplink connects: its parent's endpoint (tcp across hosts), or the control's. */
  private parentEndpoint(node: NodeHandle, parentId: number | null): string | undefined {
    if (parentId === null) return this.core.controlEndpoint(node.host);
    const parent = this.core.node(parentId);
    const proc = parent?.process ?? null;
    if (parent === undefined || proc === null) return undefined;
    return (parent.host === node.host ? proc.endpoint : proc.tcpEndpoint) ?? undefined;
  }

  /** A child as its parent must know it: the node and its current process (none: null pid). */
  private specOf(id: number | null): PeerSpec | null {
    if (id === null) return null;
    const proc = this.core.node(id)?.process ?? null;
    return { id, pid: proc === null ? null : proc.pid };
  }
}

/** Waiting for a parent failed: a create says so about the parent. */
function asParentError(parent: number, error: unknown): unknown {
  if (!(error instanceof ArborError)) return error;
  if (error.kind === 'unavailable' || error.kind === 'not-found') return parentUnavailable(parent, error.reason ?? error.message);
  return error;
}
