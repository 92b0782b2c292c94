/* The web view's pure parts: where the tree's nodes are drawn, and which state each is drawn in. */
import { describe, expect, it } from 'vitest';
import { type NodeInfo, NodeState, type TopologyResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { drawnState } from '../../clients/web/node-state.js';
import { layoutTree } from '../../clients/web/tree-layout.js';

function node(id: number, links: Partial<NodeInfo> = {}): NodeInfo {
  return { id, pid: 100 + id, depth: 0, available: true, state: NodeState.NODE_STATE_RUNNING, restarts: 0, keys: 0, reason: '', host: 'local', ...links };
}

const topology = (root: number | undefined, nodes: NodeInfo[]): TopologyResponse => ({ root, nodes, heartbeatIntervalMs: 0, balanced: true, depthBound: undefined });

describe('layoutTree', () => {
  it('puts each node in the column of its rank by id and the row of its depth; edges say which side', () => {
    const layout = layoutTree(
      topology(8, [node(8, { left: 6, right: 11 }), node(6, { parent: 8 }), node(11, { parent: 8, left: 9, right: 13 }), node(9, { parent: 11 }), node(13, { parent: 11 })]),
    );
    const at = Object.fromEntries(layout.placed.map((p) => [p.node.id, [p.column, p.row]]));
    expect(at).toEqual({ 6: [0, 1], 8: [1, 0], 9: [2, 2], 11: [3, 1], 13: [4, 2] });
    expect(layout.edges).toEqual([
      { from: 8, to: 6, side: 'left' },
      { from: 8, to: 11, side: 'right' },
      { from: 11, to: 9, side: 'left' },
      { from: 11, to: 13, side: 'right' },
    ]);
    expect([layout.columns, layout.rows]).toEqual([5, 3]);
  });

  it('draws a 5,000-node chain (--balance off) without running out of stack', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => i);
    const layout = layoutTree(topology(0, ids.map((id) => node(id, id + 1 < ids.length ? { right: id + 1 } : {}))));
    expect(layout.rows).toBe(5000);
    expect(layout.placed.at(-1)).toMatchObject({ column: 4999, row: 4999 });
  });

  it('still shows every node of a malformed answer: missing children, a loop, unlinked nodes', () => {
    const layout = layoutTree(topology(1, [node(1, { left: 0, right: 2 }), node(2, { right: 1 }), node(7)]));
    expect(layout.placed.map((p) => p.node.id).sort()).toEqual([1, 2, 7]);
    expect(layoutTree(topology(undefined, []))).toEqual({ placed: [], edges: [], columns: 0, rows: 0 });
  });
});

describe('drawnState', () => {
  it.each([
    [NodeState.NODE_STATE_RUNNING, true, 'available'],
    [NodeState.NODE_STATE_RUNNING, false, 'unavailable'],
    [NodeState.NODE_STATE_STARTING, false, 'starting'],
    [NodeState.NODE_STATE_RESTARTING, false, 'restarting'],
    [NodeState.NODE_STATE_FAILED, false, 'failed'],
    [NodeState.NODE_STATE_EXITED, false, 'failed'],
    [NodeState.NODE_STATE_STOPPING, false, 'unavailable'],
  ])('state %s, available %s → %s', (state, available, expected) => {
    expect(drawnState(node(1, { state, available }))).toBe(expected);
  });
});
