/**
 * @module What each node is, for its clients, derived from the parts that own the facts: its
 * lifecycle (node.ts), the liveness verdicts (liveness.ts), whether its host's agent is
 * connected (hosts.ts) and the tree's shape. Nothing here is stored twice: `own` and `reach`
 * are computed when asked; the one thing kept is what each node was last reported as, so that
 * every change is one event (`available` / `unavailable`), in tree order.
 *
 * A node is `up` or `moving` (serving; moving: its link to its parent is being made or changed)
 * and then available; `coming` (being created) and `leaving` (being removed) are not assessed;
 * `restarting` and `down` make it, and everything below it, unavailable. Commands wait for a
 * node that is moving, coming or restarting, and fail fast for one that is down.
 */
import { nodeNotFound, nodeUnavailable } from './errors.js';
import type { DownCause, NodeEvent } from './api.js';
import type { NodeHandle } from './node.js';
import type { Reach } from './requests.js';
import type { Topology } from './topology.js';

export type Own =
  | { t: 'up' }
  | { t: 'moving' }
  | { t: 'coming' }
  | { t: 'leaving' }
  | { t: 'restarting'; reason: string }
  | { t: 'down'; cause: Exclude<DownCause, 'ancestor'>; reason: string };

/** The states without a reason, shared: `reach` asks `own` of every node on a command's path. */
const UP: Own = { t: 'up' };
const MOVING: Own = { t: 'moving' };
const COMING: Own = { t: 'coming' };
const LEAVING: Own = { t: 'leaving' };

/** What availability reads of the rest of the control. */
export interface AvailabilitySources {
  shape: Topology;
  node(id: number): NodeHandle | undefined;
  /** The liveness verdict of a node's process: why it is down by itself, or undefined. */
  verdict(id: number): string | undefined;
  /** Whether the agent of host `name` is connected (this host always is). */
  hostConnected(name: string): boolean;
}

export class Availability {
  /** What each assessed node was last reported as (true: available). */
  private readonly reported = new Map<number, boolean>();

  constructor(
    private readonly sources: AvailabilitySources,
    private readonly emit: (event: Omit<NodeEvent, 'time'>) => void,
  ) {}

  /** What node `id` is by itself. */
  own(node: NodeHandle): Own {
    const life = node.state;
    switch (life.t) {
      case 'starting':
        return COMING;
      case 'stopping':
      case 'stopped':
        return LEAVING;
      case 'restarting':
        return { t: 'restarting', reason: `it is restarting (${life.reason})` };
      case 'failed':
      case 'exited':
        return { t: 'down', cause: 'exit', reason: life.reason };
      case 'running': {
        // Other hosts: the agent link's own heartbeats (2 s) say so even with heartbeats off.
        if (!this.sources.hostConnected(node.host)) return { t: 'down', cause: 'silence', reason: `its host ${node.host} is not connected` };
        const verdict = this.sources.verdict(node.id);
        if (verdict !== undefined) return { t: 'down', cause: 'silence', reason: verdict };
        return life.linked ? UP : MOVING;
      }
    }
  }

  /**
   * Whether a command can reach `id` now: `ok`; `creating` (it, or a node above it, is being
   * created); `wait` (something on its path is moving or restarting); or the error (something on
   * its path is down: the topmost decides).
   */
  reach(id: number): Reach {
    const { shape } = this.sources;
    if (!shape.has(id)) return nodeNotFound(id);
    let wait: 'ok' | 'wait' | 'creating' = 'ok';
    for (const at of shape.pathTo(id)) {
      const node = this.sources.node(at);
      if (node === undefined) return nodeNotFound(id);
      const own = this.own(node);
      if (own.t === 'down') return nodeUnavailable(id, this.whyDown(id));
      if (own.t === 'coming') wait = 'creating';
      else if (own.t !== 'up' && wait === 'ok') wait = 'wait';
    }
    return wait;
  }

  /** Whether node `id` and everything above it serve now (for Topology and ping). */
  isAvailable(id: number): boolean {
    const { shape } = this.sources;
    const path = shape.pathTo(id);
    if (path.length === 0) return false;
    return path.every((at) => {
      const node = this.sources.node(at);
      const own = node === undefined ? undefined : this.own(node).t;
      return own === 'up' || own === 'moving';
    });
  }

  /**
   * Why node `id` cannot be reached now, naming the node at the top of the outage (e.g. the
   * root that does not answer); undefined when nothing is wrong on its path.
   */
  whyDown(id: number): string | undefined {
    const { shape } = this.sources;
    for (const at of shape.pathTo(id)) {
      const node = this.sources.node(at);
      if (node === undefined) continue;
      const own = this.own(node);
      if (own.t !== 'down' && own.t !== 'restarting') continue;
      if (at === id) return own.reason;
      return `node ${at} above it${shape.get(at)?.parent === null ? ' (the root)' : ''} cannot be reached: ${own.reason}`;
    }
    return undefined;
  }

  /**
   * Compares every assessed node with what it was last reported as, and reports each change,
   * parents first. Returns whether any node became unavailable.
   */
  reassess(): boolean {
    let lost = false;
    const seen = new Set<number>();
    const available = new Map<number, boolean>();
    for (const place of this.sources.shape.preorder()) {
      const node = this.sources.node(place.id);
      if (node === undefined) continue;
      const own = this.own(node);
      if (own.t === 'coming' || own.t === 'leaving') continue;
      const parentOk = place.parent === null || available.get(place.parent) !== false;
      const now = (own.t === 'up' || own.t === 'moving') && parentOk;
      available.set(place.id, now);
      seen.add(place.id);
      const before = this.reported.get(place.id);
      this.reported.set(place.id, now);
      // First sight (a node just created or restored): its state is known, not a change.
      if (before === undefined || before === now) continue;
      if (now) {
        this.emit({ kind: 'available', id: place.id, reason: 'reachable again' });
        continue;
      }
      lost = true;
      if (own.t === 'down') this.emit({ kind: 'unavailable', id: place.id, reason: own.reason, cause: own.cause });
      else if (own.t === 'restarting') this.emit({ kind: 'unavailable', id: place.id, reason: own.reason, cause: 'exit' });
      else this.emit({ kind: 'unavailable', id: place.id, reason: `node ${place.parent} above it is unavailable`, cause: 'ancestor' });
    }
    for (const id of [...this.reported.keys()]) if (!seen.has(id) && this.sources.node(id) === undefined) this.reported.delete(id);
    return lost;
  }
}
