/**
 * @module Who is reachable: a node is available when its process runs, it was heard within
 * 4 x the heartbeat interval, and every node above it is available (liveness travels the
 * same tree path as commands).
 */
import type { Topology, TreeNode } from './topology.js';

/** The node's own reason to be down (exited, silent), or undefined when it is fine itself. */
export type OwnDownReason = (node: TreeNode) => string | undefined;

export interface Flip {
  node: TreeNode;
  available: boolean;
  reason: string;
}

/**
 * Recomputes `available` for every started node and returns the changes, parents first, so
 * events read top-down. Starting nodes are not assessed (they are not reachable yet).
 */
export function reassess(topology: Topology, ownReason: OwnDownReason): Flip[] {
  const flips: Flip[] = [];
  for (const node of topology.preorder()) {
    if (node.state === 'starting') continue;
    const parent = node.parent === null ? undefined : topology.get(node.parent);
    const reason =
      ownReason(node) ?? (parent !== undefined && !parent.available ? `node ${parent.id} above it is unavailable` : undefined);
    const available = reason === undefined;
    if (available !== node.available) {
      node.available = available;
      flips.push({ node, available, reason: reason ?? 'heard again' });
    }
  }
  return flips;
}
