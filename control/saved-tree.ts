/**
 * @module What the tree file holds, and when a change may be acknowledged.
 *
 * The file holds decided changes only: a node once its create is acknowledged, never again once
 * its remove is decided, and the heartbeat interval decided. A create, a remove or a heartbeat
 * change is acknowledged only once a save that records it succeeded; otherwise the call fails
 * (`notSaved`: a full disk is RESOURCE_EXHAUSTED "disk full") and the change is not made or is
 * undone, so a restart never forgets what was acknowledged nor brings back what was refused:
 * - a remove and a heartbeat change are saved first, before anything is stopped or switched:
 *   when that save fails nothing has changed;
 * - a create is saved once its node runs and the tree is balanced around it (a node cannot be
 *   saved before it exists); when that save fails the node is removed again (control.ts).
 * Other saves (a restart's new pid, a rebalancing) are made as things happen and a failure is
 * only logged: the file keeps the last shape that could be saved, and the next save catches up.
 *
 * A node the file must not hold (being created, being removed) is taken out of the saved shape
 * as a search-tree deletion does, then the AVL rule restored above it, so the rest keep a valid,
 * balanced tree whatever their places.
 */
import { fsCause, isDiskFull } from '../lib/fs-cause.js';
import type { Logger } from '../lib/logger.js';
import { type Counted, rebalanceFrom, removeNode, type Shape } from './balance.js';
import { type ArborError, notSaved } from './errors.js';
import type { NodeStorage, SavedNode } from './storage.js';
import { Topology } from './topology.js';

/** The live tree a save reads. */
export interface LiveTree {
  shape: Topology;
  balance: 'avl' | 'off';
  /** Still starting (its process not attached): not counted for balance, and not saved. */
  starting(id: number): boolean;
  /** The pid serving the node; null for a node on another host (that host's, not waited for here). */
  pid(id: number): number | null;
  /** The host of a node on another host (it restarts there), else undefined. */
  remoteHost(id: number): string | undefined;
}

/**
 * `shape` without the nodes `kept` refuses, each taken out as a search-tree deletion does (in id
 * order); with `counted` (AVL on) the AVL rule is restored above each. Pure.
 */
export function keptShape(shape: Shape, kept: (id: number) => boolean, counted: Counted | undefined): Shape {
  let out = shape;
  for (const id of [...shape.places.keys()].filter((id) => !kept(id)).sort((a, b) => a - b)) {
    const { shape: cut, fixFrom } = removeNode(out, id);
    out = counted === undefined ? cut : rebalanceFrom(cut, fixFrom, counted);
  }
  return out;
}

export class SavedTreeKeeper {
  /** Created, not acknowledged yet: not saved. */
  private readonly unacknowledged = new Set<number>();
  /** Their remove is decided (saved, or being undone after a create): never saved again. */
  private readonly leaving = new Set<number>();

  constructor(
    private readonly storage: NodeStorage,
    private readonly live: LiveTree,
    /** The interval decided: saved before it is switched, so every save holds it. */
    private heartbeatMs: number,
    private readonly log: Logger,
  ) {}

  /** Saves the tree as it is; a failure is logged (the next save tries again). */
  save(): void {
    try {
      this.write();
    } catch (error) {
      this.log.error({ err: error, file: this.storage.treeFile }, 'cannot save the tree in the data dir');
    }
  }

  /** Node `id` is being created: not saved until `acknowledgeCreate`. */
  creating(id: number): void {
    this.unacknowledged.add(id);
  }

  /** Saves node `id` as created. Throws `notSaved` (the node is then still not saved). */
  acknowledgeCreate(id: number): void {
    this.commit(
      `Node ${id} was not created`,
      () => this.unacknowledged.delete(id),
      () => this.unacknowledged.add(id),
    );
  }

  /** Saves the tree without node `id`, before anything of it is stopped. Throws `notSaved` (nothing changed then). */
  decideRemove(id: number): void {
    this.commit(
      `Node ${id} was not removed`,
      () => this.leaving.add(id),
      () => this.leaving.delete(id),
    );
  }

  /** Node `id` stays in the tree although its create failed (it ran before the failure): saved from now on, as any node. */
  adopt(id: number): void {
    this.unacknowledged.delete(id);
  }

  /** Node `id` goes without a save of its own (a create being undone): never saved again. */
  leave(id: number): void {
    this.leaving.add(id);
  }

  /** Node `id` is out of the tree: a new node may take its id. */
  gone(id: number): void {
    this.unacknowledged.delete(id);
    this.leaving.delete(id);
  }

  /** Saves `intervalMs` as the heartbeat interval, before it is switched. Throws `notSaved` (the interval decided stays the old one). */
  decideHeartbeat(intervalMs: number): void {
    const previous = this.heartbeatMs;
    this.commit(
      'Heartbeat interval not changed',
      () => (this.heartbeatMs = intervalMs),
      () => (this.heartbeatMs = previous),
    );
  }

  /** The switch to a decided interval failed: `intervalMs` (the one in force) is saved again, best effort. */
  heartbeatBack(intervalMs: number): void {
    this.heartbeatMs = intervalMs;
    this.save();
  }

  /** Makes `change`, saves it; when the save fails, `undo` takes the change back and the failure is thrown as `what`. */
  private commit(what: string, change: () => void, undo: () => void): void {
    change();
    try {
      this.write();
    } catch (error) {
      undo();
      throw this.failure(what, error);
    }
  }

  private failure(what: string, error: unknown): ArborError {
    this.log.error({ err: error, file: this.storage.treeFile }, `${what}: cannot save the tree in the data dir`);
    return notSaved(what, `cannot save ${this.storage.treeFile ?? 'the tree'}: ${fsCause(error)}`, isDiskFull(error));
  }

  /** Writes the tree file: the decided nodes at their live places (those taken out by `keptShape`). Throws the storage's error. */
  private write(): void {
    if (this.storage.treeFile === null) return;
    const { live } = this;
    const kept = (id: number): boolean => !live.starting(id) && !this.unacknowledged.has(id) && !this.leaving.has(id);
    const counted = live.balance === 'avl' ? (id: number) => !live.starting(id) : undefined;
    const shape = new Topology();
    shape.replace(keptShape(live.shape.snapshot(), kept, counted));
    this.storage.saveTree({
      heartbeatMs: this.heartbeatMs,
      root: shape.root,
      nodes: shape.preorder().map((place): SavedNode => {
        const host = live.remoteHost(place.id);
        return { ...place, pid: live.pid(place.id), ...(host !== undefined && { host }) };
      }),
    });
  }
}
