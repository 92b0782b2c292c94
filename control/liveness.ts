/**
 * @module Who is reachable, and why not: a node is available when its process runs, its link
 * to its parent is confirmed, it was heard within 4 x the heartbeat interval, and every node
 * above it is available (liveness travels the same tree path as commands).
 *
 * Silence is learned in two ways: the control watches the root's link itself, and the root's
 * heartbeat lists the topmost silent nodes below it (each node aggregates its subtree).
 */
import { MISSED_INTERVALS, PeerWatch } from '../computing/protocol/index.js';
import type { NodeHandle } from './node-handle.js';
import type { Topology } from './topology.js';

/**
 * Why a node is unavailable: its own process (exited, restarting, failed), its own silence, a
 * link to its parent not confirmed yet, or an unavailable node above it.
 */
export type DownCause = 'exit' | 'silence' | 'detached' | 'ancestor';

export interface Down {
  cause: DownCause;
  reason: string;
}

export interface Flip {
  node: NodeHandle;
  /** Why it became unavailable; undefined when it became available again. */
  down: Down | undefined;
}

export class Liveness {
  /** Watches the root; below it, nodes watch their children and report up. */
  private readonly rootMonitor: PeerWatch<number>;
  /** The topmost unreachable nodes, as the root last reported them. */
  private reportedDown = new Set<number>();
  private intervalMs = 0;

  constructor(
    private readonly shape: Topology,
    private readonly nodes: ReadonlyMap<number, NodeHandle>,
    onRootChange: () => void,
    private readonly isConnected: (id: number) => boolean,
  ) {
    this.rootMonitor = new PeerWatch<number>(onRootChange);
  }

  get interval(): number {
    return this.intervalMs;
  }

  setInterval(ms: number): void {
    this.intervalMs = ms;
    if (ms === 0) this.reportedDown.clear();
    this.rootMonitor.setInterval(ms);
  }

  watchRoot(id: number): void {
    this.rootMonitor.watch(id, this.isConnected(id));
  }

  /** ROUTER_NOTIFY on the control's link. */
  rootConnected(id: number, connected: boolean, moving: boolean): void {
    this.rootMonitor.connected(id, connected, moving);
  }

  unwatchRoot(id: number): void {
    this.rootMonitor.unwatch(id);
  }

  /** A frame arrived from the root. */
  heardRoot(id: number): void {
    this.rootMonitor.heard(id);
  }

  /** The root said it is quiet: it beats again before it does anything else. */
  rootRests(id: number): void {
    this.rootMonitor.rest(id);
  }

  /** The root's heartbeat: the topmost silent nodes of the tree. */
  report(down: readonly number[]): void {
    this.reportedDown = new Set(down);
  }

  stop(): void {
    this.rootMonitor.stop();
  }

  /** Why a node is down by itself (not because of an ancestor), or undefined. Starting nodes are not assessed. */
  ownDown(node: NodeHandle): Down | undefined {
    switch (node.state) {
      case 'starting':
        return undefined;
      case 'running':
        break;
      case 'restarting':
        return { cause: 'exit', reason: `it is restarting (${node.reason ?? 'its process exited'})` };
      default:
        return { cause: 'exit', reason: node.reason ?? 'its process exited' };
    }
    if (!node.attached) return { cause: 'detached', reason: 'it is reconnecting to its parent' };
    // Other hosts: the agent link's own heartbeats (2 s) say so even with heartbeats off.
    if (node.hostLost) return { cause: 'silence', reason: `its host ${node.host} is not connected` };
    if (this.intervalMs === 0) return undefined;
    // The root is judged only while watched: between the links of a root rotation it is not.
    const silent =
      this.shape.get(node.id)?.parent === null ? this.rootMonitor.watches(node.id) && !this.rootMonitor.isUp(node.id) : this.reportedDown.has(node.id);
    return silent ? { cause: 'silence', reason: `not heard from for ${MISSED_INTERVALS} x ${this.intervalMs} ms` } : undefined;
  }

  /**
   * Recomputes `available` for every started node and returns the changes, parents first, so
   * events read top-down. Starting nodes are not assessed (they are not reachable yet), nor are
   * stopping ones: a removed node (or every node, as the gateway stops) is leaving, not failing.
   * Its commands are held meanwhile; assessed, a reassess during its stop made it and its whole
   * subtree unavailable and back before the relink (seen under load in a remove of an inner node).
   */
  reassess(): Flip[] {
    const flips: Flip[] = [];
    for (const place of this.shape.preorder()) {
      const node = this.nodes.get(place.id);
      if (node === undefined || node.state === 'starting' || node.ending) continue;
      const parent = place.parent === null ? undefined : this.nodes.get(place.parent);
      const down: Down | undefined =
        this.ownDown(node) ??
        (parent !== undefined && !parent.available ? { cause: 'ancestor', reason: `node ${parent.id} above it is unavailable` } : undefined);
      const available = down === undefined;
      if (available !== node.available) {
        node.available = available;
        flips.push({ node, down });
      }
    }
    return flips;
  }

  /**
   * Why node `id` cannot be reached now, naming the node at the top of the outage (e.g. the
   * root that does not answer); undefined when nothing is wrong on its path.
   */
  whyDown(id: number): string | undefined {
    let top: { id: number; down: Down; isRoot: boolean } | undefined;
    for (const at of this.shape.pathTo(id)) {
      const node = this.nodes.get(at);
      const down = node === undefined ? undefined : this.ownDown(node);
      if (down !== undefined) {
        top = { id: at, down, isRoot: this.shape.get(at)?.parent === null };
        break;
      }
    }
    if (top === undefined) return undefined;
    if (top.id === id) return top.down.reason;
    return `node ${top.id} above it${top.isRoot ? ' (the root)' : ''} cannot be reached: ${top.down.reason}`;
  }
}
