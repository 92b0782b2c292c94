/**
 * @module Creating a node, from a checked create to its answer: start its process, wait for the
 * parent it has by then, place it, and take it out of the tree again on any failure.
 *
 * Until it is attached a new node may be carried elsewhere by a rotation, and its parent may go
 * down for good: the create follows the first and ends at once on the second. The parent hears
 * of its child as the child is told to connect, so no hello is refused.
 */
import type { Created } from './api.js';
import { ClaimError } from './computing-process.js';
import type { Dispatch } from './dispatch.js';
import { ArborError, nodeUnavailable, parentUnavailable } from './errors.js';
import type { NodeEvent } from './events.js';
import type { Liveness } from './liveness.js';
import type { Logger } from './logger.js';
import { NodeHandle } from './node-handle.js';
import type { Topology } from './topology.js';

/** What a create needs of the rest of the control. */
export interface NodeCreationCore {
  shape: Topology;
  nodes: Map<number, NodeHandle>;
  liveness: Pick<Liveness, 'whyDown' | 'watchRoot'>;
  dispatch: Pick<Dispatch, 'whenReachable' | 'reachability'>;
  log: Logger;
  emit(event: Omit<NodeEvent, 'time'>): void;
  /** Re-derives availability after any change (events, fail-fast, waiters). */
  reassess(): void;
  /** Saves the tree (data dir) after an acknowledged change. */
  persist(): void;
  /** A created node is attached: resolves once the tree is rebalanced around it. */
  attached(id: number): Promise<void>;
}

/** How a create gets its node a process and a place in the tree. */
export interface NodeCreationSteps {
  start(node: NodeHandle, fresh: boolean, deadline: number): Promise<void>;
  /** Sends `node` its place, without waiting for its answer. */
  tell(node: NodeHandle): void;
  /** Sends `node` its place and resolves when its hello comes back (or rejects with `onTimeout()` at `deadline`). */
  placed(node: NodeHandle, deadline: number, onTimeout: () => ArborError): Promise<void>;
}

function reasonOf(error: unknown): string {
  if (error instanceof ArborError) return error.reason ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

export class NodeCreation {
  /** Creates in progress, and how to end each at once. */
  private readonly creating = new Map<number, (error: ArborError) => void>();
  /** Creates sending their new node its first link. */
  private readonly attaching = new Set<Promise<void>>();
  private readonly noneStartingWaiters: (() => void)[] = [];

  constructor(
    private readonly core: NodeCreationCore,
    private readonly steps: NodeCreationSteps,
  ) {}

  /**
   * Starts node `id` (already checked: new, placed under `parent`) and resolves once it is
   * reachable. On any failure the node is taken out of the tree again.
   */
  async create(id: number, deadline: number, host: string): Promise<Created> {
    const { shape, nodes } = this.core;
    shape.insert(id);
    const node = new NodeHandle(id, 'starting', this.core.log);
    node.host = host;
    nodes.set(id, node);
    // Ends the create at once when its parent goes down for good (see afterReassess).
    let abort: (error: ArborError) => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => (abort = reject));
    aborted.catch(() => undefined);
    const step = <T>(work: Promise<T>): Promise<T> => Promise.race([work, aborted]);
    this.creating.set(id, abort);
    const parentOf = (): number | null => shape.get(id)?.parent ?? null;
    try {
      const started = this.steps.start(node, true, deadline);
      started.catch(() => undefined);
      // Until it is attached the node may be carried elsewhere by a rotation: wait for the parent
      // it has now, and go on only once that one is reachable (not held by a relink).
      let parent = parentOf();
      for (;;) {
        if (parent !== null) {
          const above = parent;
          await step(this.core.dispatch.whenReachable(above, deadline, () => parentUnavailable(above, this.core.liveness.whyDown(above)))).catch(
            (error: unknown) => {
              throw error instanceof ArborError && error.message.startsWith('Parent') ? error : parentUnavailable(above, reasonOf(error));
            },
          );
        }
        await step(started);
        const now = parentOf();
        if (now === parent && (parent === null || this.core.dispatch.reachability(parent) === 'ok')) break;
        parent = now;
      }
      // The parent hears of its child as the child is told to connect; the child's hello, which
      // passes through the parent, answers both (a frame that beats the parent's link is held there).
      if (parent !== null) this.steps.tell(nodes.get(parent) as NodeHandle);
      const above = parent;
      const attach = this.steps.placed(node, deadline, () =>
        above === null ? nodeUnavailable(id, 'the new process did not connect in time') : parentUnavailable(above, 'the new process did not connect through it in time'),
      );
      this.attaching.add(attach);
      try {
        await step(attach);
      } finally {
        this.attaching.delete(attach);
      }
      node.attached = true;
      node.available = true;
      node.transition('running', `created as pid ${node.pid}`);
      if (parent === null) this.core.liveness.watchRoot(id);
      this.core.emit({ kind: 'created', id, reason: `pid ${node.pid}, under ${parent ?? 'control'}`, pid: node.pid ?? undefined });
      this.core.reassess();
      this.creating.delete(id);
      // Answered once the tree is balanced again: the response names the parent it has then.
      await this.core.attached(id);
      this.core.persist();
      return { id, pid: node.pid as number, parent: parentOf() };
    } catch (error) {
      if (node.state === 'starting') this.abandon(node);
      throw error instanceof ClaimError ? new ArborError('unavailable', `Node ${id} could not start: ${error.message}`) : error;
    } finally {
      this.creating.delete(id);
    }
  }

  /** Resolves once no create is linking its new node (a relink must not change links under it). */
  async attachesSettled(): Promise<void> {
    await Promise.all([...this.attaching].map((a) => a.catch(() => undefined)));
  }

  /** Whether any node is being created. */
  get anyStarting(): boolean {
    for (const node of this.core.nodes.values()) if (node.state === 'starting') return true;
    return false;
  }

  /** Resolves once no node is being created. */
  noneStarting(): Promise<void> {
    if (!this.anyStarting) return Promise.resolve();
    return new Promise((resolve) => this.noneStartingWaiters.push(resolve));
  }

  /** Availability was re-derived: creates whose parent went down for good end now. */
  afterReassess(): void {
    for (const [id, abort] of this.creating) {
      const parent = this.core.shape.get(id)?.parent ?? null;
      if (parent === null) continue;
      const above = this.core.dispatch.reachability(parent);
      if (above instanceof ArborError) {
        this.creating.delete(id);
        abort(parentUnavailable(parent, above.reason));
      }
    }
    if (this.noneStartingWaiters.length > 0 && !this.anyStarting) {
      for (const resolve of this.noneStartingWaiters.splice(0)) resolve();
    }
  }

  /** A create failed: the node (and any starting node below it) leaves the tree. */
  private abandon(node: NodeHandle): void {
    const { shape, nodes } = this.core;
    node.process?.kill();
    node.process = null;
    const place = shape.get(node.id);
    const parentId = place?.parent ?? null;
    if (nodes.get(node.id) === node) {
      for (const removed of shape.removeSubtree(node.id)) {
        const handle = nodes.get(removed.id);
        nodes.delete(removed.id);
        if (handle !== undefined && handle !== node) handle.process?.kill();
      }
    }
    if (!node.ending) node.transition('stopped', 'its create failed');
    // The parent no longer has this child: tell it, so only the control's links count.
    const parent = parentId === null ? undefined : nodes.get(parentId);
    if (parent?.state === 'running' && parent.attached) this.steps.tell(parent);
    this.core.reassess();
  }
}
