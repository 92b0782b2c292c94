/**
 * @module Where each node of the tree is drawn. Pure.
 *
 * The classic layout of a binary search tree: a node's column is its rank in id order (an
 * in-order walk), its row is its depth. Columns are distinct, so no two boxes overlap, every left
 * child sits left of its parent and every right child right of it, and the picture reads in id
 * order from left to right. Nodes no link reaches (only in a malformed answer) get columns after
 * the rest, on row 0, so they are still seen.
 */
import type { NodeInfo, TopologyResponse } from '../../proto/gen/arbor/v1/arbor.js';

export interface PlacedNode {
  node: NodeInfo;
  column: number;
  row: number;
}

export interface Edge {
  from: number;
  to: number;
  side: 'left' | 'right';
}

export interface Layout {
  placed: PlacedNode[];
  edges: Edge[];
  columns: number;
  rows: number;
}

export function layoutTree(topology: TopologyResponse): Layout {
  const byId = new Map(topology.nodes.map((node) => [node.id, node]));
  const placed: PlacedNode[] = [];
  const edges: Edge[] = [];
  const seen = new Set<number>();
  let column = 0;

  // Iterative in-order walk with explicit rows: a deep chain (--balance off) cannot overflow the stack.
  const walk = (rootId: number): void => {
    const stack: { id: number; row: number; expanded: boolean }[] = [{ id: rootId, row: 0, expanded: false }];
    while (stack.length > 0) {
      const top = stack.pop() as { id: number; row: number; expanded: boolean };
      const node = byId.get(top.id);
      if (node === undefined) continue;
      if (top.expanded) {
        placed.push({ node, column: column++, row: top.row });
        continue;
      }
      if (seen.has(top.id)) continue;
      seen.add(top.id);
      const children: [number | undefined, 'left' | 'right'][] = [
        [node.left, 'left'],
        [node.right, 'right'],
      ];
      for (const [child, side] of children) if (child !== undefined && byId.has(child) && !seen.has(child)) edges.push({ from: node.id, to: child, side });
      if (node.right !== undefined) stack.push({ id: node.right, row: top.row + 1, expanded: false });
      stack.push({ id: top.id, row: top.row, expanded: true });
      if (node.left !== undefined) stack.push({ id: node.left, row: top.row + 1, expanded: false });
    }
  };

  if (topology.root !== undefined) walk(topology.root);
  for (const node of topology.nodes) if (!seen.has(node.id)) walk(node.id);
  const rows = placed.reduce((deepest, p) => Math.max(deepest, p.row + 1), 0);
  return { placed, edges, columns: column, rows };
}
