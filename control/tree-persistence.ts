/**
 * @module What of the live tree is saved in the data dir (or the ephemeral storage): the shape
 * without the nodes still being created, each node's pid, and the host of nodes on other hosts.
 * A save that fails is logged, not thrown: the change it records has already been made.
 */
import type { NodeStorage } from './data-dir.js';
import type { Logger } from './logger.js';
import type { NodeHandle } from './node-handle.js';
import type { Topology } from './topology.js';

/** The parts of the control a save reads. */
export interface PersistedTree {
  storage: NodeStorage;
  shape: Topology;
  nodes: ReadonlyMap<number, NodeHandle>;
  heartbeatMs: number;
  /** This host's name: nodes of other hosts are saved with theirs. */
  hostName: string;
  log: Logger;
}

/** Saves the tree without the nodes still being created (not acknowledged yet; only such nodes hang below them). */
export function persistTree({ storage, shape, nodes, heartbeatMs, hostName, log }: PersistedTree): void {
  const kept = (id: number | null): number | null => (id !== null && nodes.get(id)?.state !== 'starting' ? id : null);
  try {
    storage.saveTree({
      heartbeatMs,
      root: kept(shape.root),
      nodes: shape
        .preorder()
        .filter((place) => kept(place.id) !== null)
        .map((place) => {
          const node = nodes.get(place.id);
          // A node on another host: its pid is that host's (not waited for here), and it restarts there.
          const remote = node !== undefined && node.host !== hostName;
          return { ...place, left: kept(place.left), right: kept(place.right), pid: remote ? null : (node?.pid ?? null), ...(remote && { host: node.host }) };
        }),
    });
  } catch (error) {
    log.error({ err: error }, 'cannot save the tree in the data dir');
  }
}
