/* The web view's pure parts: where the tree's nodes are drawn, what a collapsed subtree shows, the fit, the arrow keys' moves, and which state each node is drawn in. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NodeEventKind, type NodeInfo, NodeState, type TopologyResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { applyEvent } from '../../clients/web/apply-event.js';
import { drawnState, nodeLabel, stateCounts, worstState } from '../../clients/web/node-state.js';
import { ancestors, BOX_H, boxWidth, fitTransform, layoutTree, neighbour } from '../../clients/web/tree-layout.js';
import { parseNodeFilter } from '../../clients/web/node-id.js';
import { completeLine } from '../../clients/completion.js';
import { helpText } from '../../clients/help.js';

function node(id: number, links: Partial<NodeInfo> = {}): NodeInfo {
  return { id, pid: 100 + id, depth: 0, available: true, state: NodeState.NODE_STATE_RUNNING, restarts: 0, keys: 0, reason: '', host: 'local', readOnly: '', ...links };
}

const topology = (root: number | undefined, nodes: NodeInfo[]): TopologyResponse => ({ root, nodes, heartbeatIntervalMs: 0, balanced: true, depthBound: undefined });

/** A binary search tree of `ids`, inserted in that order (unbalanced), as the API describes it. */
function bst(ids: readonly number[]): TopologyResponse {
  const nodes = new Map<number, NodeInfo>();
  let root: number | undefined;
  for (const id of ids) {
    if (nodes.has(id)) continue;
    if (root === undefined) {
      root = id;
      nodes.set(id, node(id));
      continue;
    }
    let at = nodes.get(root) as NodeInfo;
    for (;;) {
      const side = id < at.id ? 'left' : 'right';
      const next = at[side];
      if (next === undefined) {
        at[side] = id;
        nodes.set(id, node(id, { parent: at.id, depth: at.depth + 1 }));
        break;
      }
      at = nodes.get(next) as NodeInfo;
    }
  }
  return topology(root, [...nodes.values()]);
}

/** Ids 1..n in the order that builds a perfect (or nearly perfect) tree. */
function balancedOrder(n: number): number[] {
  const out: number[] = [];
  const queue: [number, number][] = [[1, n]];
  while (queue.length > 0) {
    const [lo, hi] = queue.shift() as [number, number];
    if (lo > hi) continue;
    const mid = (lo + hi) >> 1;
    out.push(mid);
    queue.push([lo, mid - 1], [mid + 1, hi]);
  }
  return out;
}

const at = (t: TopologyResponse, collapsed?: Set<number>) => new Map(layoutTree(t, collapsed).placed.map((p) => [p.node.id, p]));

describe('layoutTree', () => {
  it('draws a parent above its children, left child left and right child right, an only child on its own side', () => {
    const placed = at(bst([8, 6, 11, 9, 13, 7]));
    expect(placed.get(8)?.y).toBeLessThan(placed.get(6)?.y as number);
    expect(placed.get(6)?.x).toBeLessThan(placed.get(8)?.x as number);
    expect(placed.get(11)?.x).toBeGreaterThan(placed.get(8)?.x as number);
    // 6 has only a right child: 7 is drawn right of 6, not below it.
    expect(placed.get(7)?.x).toBeGreaterThan(placed.get(6)?.x as number);
    expect(layoutTree(bst([8, 6, 11, 9, 13, 7])).edges).toContainEqual({ from: 6, to: 7, side: 'right' });
  });

  // Across rows the tidy tree may draw a deep node past a shallower one of the other side (that is how it packs), so the order holds row by row.
  it('for any search tree: each row reads left to right in id order, rows are depths, no two boxes overlap', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 80 }), (ids) => {
        const t = bst(ids);
        const layout = layoutTree(t);
        expect(layout.placed).toHaveLength(t.nodes.length);
        for (const p of layout.placed) expect(p.level).toBe(p.node.depth);
        for (let level = 0; level <= Math.max(...layout.placed.map((p) => p.level)); level++) {
          const row = layout.placed.filter((p) => p.level === level).sort((a, b) => a.x - b.x).map((p) => p.node.id);
          expect(row).toEqual([...row].sort((a, b) => a - b));
        }
        for (const a of layout.placed)
          for (const b of layout.placed) if (a !== b && a.y === b.y) expect(Math.abs(a.x - b.x)).toBeGreaterThanOrEqual(layout.boxW);
      }),
      { numRuns: 60 },
    );
  });

  it('packs a perfect tree of 63 nodes into 32 slots, so its ids fit 12 px on a 1000 px wide panel', () => {
    const layout = layoutTree(bst(balancedOrder(63)));
    const width = layout.bounds.maxX - layout.bounds.minX;
    expect(width).toBeLessThanOrEqual(32 * (layout.boxW + 5));
    expect(fitTransform(layout.bounds, 1000, 700, 16, 1.6).k * 13).toBeGreaterThanOrEqual(12);
  });

  it('a collapsed node hides its subtree and says how many nodes and the worst state below', () => {
    const t = bst([8, 4, 12, 2, 6, 10, 14]);
    (t.nodes.find((n) => n.id === 6) as NodeInfo).available = false;
    const layout = layoutTree(t, new Set([4]));
    expect(layout.placed.map((p) => p.node.id)).toEqual([8, 4, 12, 10, 14]);
    expect(layout.placed[1]).toMatchObject({ children: [], hidden: { size: 2, worst: 'unavailable' } });
    expect(nodeLabel(layout.placed[1]!.node, layout.placed[1]!.hidden)).toBe('node 4, available, 0 names, collapsed: 2 nodes below, worst unavailable');
    // A collapsed leaf hides nothing.
    expect(layoutTree(t, new Set([14])).placed.find((p) => p.node.id === 14)?.hidden).toBeUndefined();
  });

  // About half a second on an idle machine; the timeout is for a loaded one.
  it('draws a 5,000-node chain (--balance off) without running out of stack', { timeout: 30_000 }, () => {
    const ids = Array.from({ length: 5000 }, (_, i) => i);
    const layout = layoutTree(topology(0, ids.map((id) => node(id, id + 1 < ids.length ? { parent: id - 1, right: id + 1, depth: id } : { depth: id }))));
    expect(layout.placed).toHaveLength(5000);
    expect(layout.placed.at(-1)?.level).toBe(4999);
  });

  it('still shows every node of a malformed answer: missing children, a loop, unlinked nodes', () => {
    const layout = layoutTree(topology(1, [node(1, { left: 0, right: 2 }), node(2, { right: 1 }), node(7)]));
    expect(layout.placed.map((p) => p.node.id).sort()).toEqual([1, 2, 7]);
    expect(layoutTree(topology(undefined, [])).placed).toEqual([]);
  });

  it('sizes the boxes for the longest id', () => {
    expect(boxWidth([node(1)])).toBe(24);
    expect(boxWidth([node(1), node(400)])).toBe(32);
    expect(boxWidth([node(2147483647)])).toBe(88);
  });
});

describe('fitTransform', () => {
  it('centres the drawing and never magnifies beyond the cap', () => {
    const small = fitTransform({ minX: -20, maxX: 20, minY: 0, maxY: BOX_H }, 800, 600, 16, 1.6);
    expect(small.k).toBe(1.6);
    expect(small.x).toBeCloseTo(400);
    const wide = fitTransform({ minX: 0, maxX: 2000, minY: 0, maxY: 100 }, 1000, 600, 0, 2);
    expect(wide.k).toBe(0.5);
    expect(wide.x).toBeCloseTo(0);
  });
});

describe('neighbour (arrow keys)', () => {
  const layout = layoutTree(bst([8, 4, 12, 2, 6, 10, 14]));
  it.each([
    [8, 'down', 4],
    [4, 'up', 8],
    [8, 'up', undefined],
    [4, 'right', 12],
    [12, 'left', 4],
    [6, 'right', 10],
    [2, 'left', undefined],
    [2, 'down', undefined],
  ] as const)('from %s, %s goes to %s', (from, key, to) => {
    expect(neighbour(layout, from, key)).toBe(to);
  });
  it('walks from the root to a leaf with Down only', () => {
    const t = bst(balancedOrder(400));
    const walk = layoutTree(t);
    let id: number | undefined = t.root;
    const path: number[] = [];
    while (id !== undefined) {
      path.push(id);
      id = neighbour(walk, id, 'down');
    }
    expect(path.length - 1).toBe(Math.max(...t.nodes.map((n) => n.depth)));
    expect(ancestors(t, path.at(-1) as number)).toEqual(path.slice(0, -1).reverse());
  });
});

describe('states', () => {
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

  it('counts per state, the worst of them, and the accessible name', () => {
    const nodes = [node(1), node(2, { available: false }), node(3, { state: NodeState.NODE_STATE_FAILED, available: false, keys: 1 })];
    const counts = stateCounts(nodes);
    expect(counts).toEqual({ available: 1, unavailable: 1, starting: 0, restarting: 0, failed: 1 });
    expect(worstState(counts)).toBe('failed');
    expect(worstState({ ...counts, failed: 0 })).toBe('unavailable');
    expect(nodeLabel(nodes[2]!)).toBe('node 3, failed, 1 name');
  });
});

describe('the page console and filters', () => {
  it('reads a node filter: empty, an id, or a clear message', () => {
    expect(parseNodeFilter(' ')).toEqual({ id: undefined });
    expect(parseNodeFilter(' 337 ')).toEqual({ id: 337 });
    expect(parseNodeFilter('x1')).toEqual({ problem: '“x1” is not a node id' });
  });

  it("help in the page says what the page does: Tab completes (as completion.ts does), and there is nothing to quit", () => {
    const web = helpText(undefined, 'web');
    expect(web).toContain('Tab completes commands');
    expect(completeLine('he')).toEqual([['heartbeat', 'help'], 'he']);
    expect(web).toContain('nothing to quit here');
    expect(helpText('quit', 'web')).not.toContain('exit');
    expect(helpText()).not.toContain('nothing to quit');
  });

  it('help in the page does not promise a watch the page does not run', () => {
    const web = helpText(undefined, 'web');
    const watchLine = web.split('\n').find((line) => line.trimStart().startsWith('watch'));
    expect(watchLine).toContain('not here');
    expect(watchLine).not.toContain('Ctrl-C');
    expect(helpText('watch', 'web')).not.toContain('Ctrl-C');
    expect(helpText('watch')).toContain('Ctrl-C');
    expect(helpText(undefined, 'cli')).not.toContain('Tab on an empty line');
  });
});

describe('applyEvent', () => {
  it('draws what an event states at once: availability, its reason, a new pid; nothing else', () => {
    const t = bst([8, 4, 12]);
    const down = applyEvent(t, { id: 4, kind: NodeEventKind.NODE_EVENT_KIND_UNAVAILABLE, reason: 'not heard from for 4 x 100 ms', time: undefined });
    expect(down.nodes.find((n) => n.id === 4)).toMatchObject({ available: false, reason: 'not heard from for 4 x 100 ms' });
    expect(t.nodes.find((n) => n.id === 4)?.available).toBe(true);
    const back = applyEvent(down, { id: 4, kind: NodeEventKind.NODE_EVENT_KIND_RESTARTED, reason: 'pid 77', pid: 77, time: undefined });
    expect(back.nodes.find((n) => n.id === 4)).toMatchObject({ available: true, reason: '', pid: 77 });
    expect(applyEvent(t, { id: 99, kind: NodeEventKind.NODE_EVENT_KIND_UNAVAILABLE, reason: '', time: undefined })).toBe(t);
    expect(applyEvent(t, { id: 4, kind: NodeEventKind.NODE_EVENT_KIND_CREATED, reason: '', time: undefined })).toBe(t);
  });
});
