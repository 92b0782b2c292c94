/**
 * @module Who is reachable: a node is available when its process runs, it was heard within
 * 4 x the heartbeat interval, and every node above it is available (liveness travels the
 * same tree path as commands).
 */
import type { Topology, TreeNode } from './topology.js';

/** Why a node is unavailable: its own exit or silence, or an unavailable node above it. */
export type DownCause = 'exit' | 'silence' | 'ancestor';

export interface Down {
  cause: DownCause;
  reason: string;
}

/** The node's own reason to be down (exited, silent), or undefined when it is fine itself. */
export type OwnDown = (node: TreeNode) => Down | undefined;

export interface Flip {
  node: TreeNode;
  /** Why it became unavailable; undefined when it became available again. */
  down: Down | undefined;
}

/**
 * Recomputes `available` for every started node and returns the changes, parents first, so
 * events read top-down. Starting nodes are not assessed (they are not reachable yet).
 */
export function reassess(topology: Topology, ownDown: OwnDown): Flip[] {
  const flips: Flip[] = [];
  for (const node of topology.preorder()) {
    if (node.state === 'starting') continue;
    const parent = node.parent === null ? undefined : topology.get(node.parent);
    const down: Down | undefined =
      ownDown(node) ??
      (parent !== undefined && !parent.available ? { cause: 'ancestor', reason: `node ${parent.id} above it is unavailable` } : undefined);
    const available = down === undefined;
    if (available !== node.available) {
      node.available = available;
      flips.push({ node, down });
    }
  }
  return flips;
}
