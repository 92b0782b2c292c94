/* The console's views of a topology (`tree`, `status`, `tree --json`): pure functions, exact text. */
import { describe, expect, it } from 'vitest';
import type { NodeInfo, Topology as TopologyResponse } from '../../clients/lib/types.js';
import { formatJsonTopology } from '../../clients/format-json.js';
import { describeNode, drawTree, statusCounts, statusLine, topologyJson, topologyText } from '../../clients/topology-view.js';

const [RUNNING, EXITED, STARTING] = ['running', 'exited', 'starting'] as const;

function node(id: number, depth: number, links: Partial<NodeInfo>, extra: Partial<NodeInfo> = {}): NodeInfo {
  return { id, depth, pid: 4000 + id, available: true, state: RUNNING, restarts: 0, keys: 0, reason: '', host: 'local', readOnly: '', ...links, ...extra };
}

/* docs/console.md's tree: 8 at the root, 6 and 11 below, 2 under 6, 9 and 13 under 11; 11 was killed,
   so its subtree is unavailable; 13 is still starting. Pre-order, left before right, as the RPC. */
const KNOWN: TopologyResponse = {
  root: 8,
  heartbeatIntervalMs: 100,
  balanced: false,
  nodes: [
    node(8, 0, { left: 6, right: 11 }),
    node(6, 1, { parent: 8, left: 2 }),
    node(2, 2, { parent: 6 }),
    node(11, 1, { parent: 8, left: 9, right: 13 }, { available: false, state: EXITED }),
    node(9, 2, { parent: 11 }, { available: false }),
    node(13, 2, { parent: 11, right: 20 }, { available: false, state: STARTING, pid: 0 }),
    node(20, 3, { parent: 13 }, { available: false }),
  ],
};

describe('drawTree', () => {
  it('draws a known tree exactly', () => {
    expect(drawTree(KNOWN)).toBe(
      [
        '8 (pid 4008)',
        '├─L 6 (pid 4006)',
        '│   └─L 2 (pid 4002)',
        '└─R 11 (pid 4011) ✗ exited',
        '    ├─L 9 (pid 4009) ✗ unavailable',
        '    └─R 13 (no pid yet) … starting',
        '        └─R 20 (pid 4020) ✗ unavailable',
      ].join('\n'),
    );
  });

  it('an empty tree, and a lone root', () => {
    expect(drawTree({ nodes: [], heartbeatIntervalMs: 0, balanced: false })).toBe('(no nodes)');
    expect(drawTree({ root: 5, nodes: [node(5, 0, {})], heartbeatIntervalMs: 0, balanced: false })).toBe('5 (pid 4005)');
  });

  it('a right-only child keeps its R, and a deep chain indents without a stray bar', () => {
    const chain: TopologyResponse = {
      root: 1,
      heartbeatIntervalMs: 0,
      balanced: false,
      nodes: [node(1, 0, { right: 2 }), node(2, 1, { parent: 1, right: 3 }), node(3, 2, { parent: 2, left: 0 }), node(0, 3, { parent: 3 })],
    };
    expect(drawTree(chain)).toBe(['1 (pid 4001)', '└─R 2 (pid 4002)', '    └─R 3 (pid 4003)', '        └─L 0 (pid 4000)'].join('\n'));
  });

  it('a malformed answer is drawn and marked, never thrown on', () => {
    const broken: TopologyResponse = {
      root: 1,
      heartbeatIntervalMs: 0,
      balanced: false,
      nodes: [node(1, 0, { left: 0, right: 7 }), node(0, 1, { parent: 1, right: 1 }), node(9, 0, {})],
    };
    expect(drawTree(broken)).toBe(
      [
        '1 (pid 4001)',
        '├─L 0 (pid 4000)',
        '│   └─R 1 ? drawn above already',
        '└─R 7 ? missing from the answer',
        '? not linked from the root:',
        '9 (pid 4009)',
      ].join('\n'),
    );
  });
});

describe('status', () => {
  it('counts nodes, depth, heartbeat and unavailable nodes', () => {
    expect(statusLine(KNOWN)).toBe('nodes 7, depth 3, heartbeat 100 ms, unavailable 4');
    expect(statusCounts(KNOWN)).toEqual({ nodes: 7, depth: 3, heartbeatIntervalMs: 100, unavailable: 4, depthBound: null });
  });

  it('a balanced tree shows the AVL bound for its size', () => {
    expect(statusLine({ ...KNOWN, balanced: true, depthBound: 3 })).toBe('nodes 7, depth 3 (AVL bound 3), heartbeat 100 ms, unavailable 4');
  });

  it('heartbeat off, and an empty tree', () => {
    expect(statusLine({ nodes: [], heartbeatIntervalMs: 0, balanced: false })).toBe('nodes 0, depth 0, heartbeat off, unavailable 0');
  });
});

describe('tree --json', () => {
  it('every field present, absent links null, states by name', () => {
    const json = topologyJson(KNOWN);
    expect(json).toMatchObject({ root: 8, heartbeatIntervalMs: 100 });
    expect((json.nodes as unknown[])[0]).toEqual({
      id: 8,
      parent: null,
      left: 6,
      right: 11,
      pid: 4008,
      depth: 0,
      available: true,
      state: 'running',
      restarts: 0,
      reason: null,
    });
    expect((json.nodes as { state: string }[]).map((n) => n.state)).toEqual(['running', 'running', 'running', 'exited', 'running', 'starting', 'running']);
    expect(JSON.stringify(topologyJson({ nodes: [], heartbeatIntervalMs: 0, balanced: false }))).toBe('{"root":null,"heartbeatIntervalMs":0,"balanced":false,"nodes":[]}');
  });

  it('the text of tree --json is the object on one line', () => {
    const text = topologyText({ kind: 'tree', json: true }, KNOWN);
    expect(text).not.toContain('\n');
    expect(JSON.parse(text)).toEqual(topologyJson(KNOWN));
    expect(topologyText({ kind: 'tree', json: false }, KNOWN)).toBe(drawTree(KNOWN));
    expect(topologyText({ kind: 'status' }, KNOWN)).toBe(statusLine(KNOWN));
  });

  it('--json lines for tree and status', () => {
    const empty = { nodes: [], heartbeatIntervalMs: 0, balanced: false };
    expect(formatJsonTopology(4, { kind: 'tree', json: false }, empty)).toBe(
      '{"line":4,"command":"tree","ok":true,"topology":{"root":null,"heartbeatIntervalMs":0,"balanced":false,"nodes":[]}}',
    );
    expect(formatJsonTopology(5, { kind: 'status' }, KNOWN)).toBe(
      '{"line":5,"command":"status","ok":true,"nodes":7,"depth":3,"heartbeatIntervalMs":100,"unavailable":4,"depthBound":null}',
    );
  });

  it('a read-only node says why in its line (nothing is added while it takes stores)', () => {
    expect(describeNode(node(4, 0, {}, { pid: 4250 }))).toBe('4 (pid 4250)');
    expect(describeNode(node(4, 0, {}, { pid: 4250, readOnly: 'disk full' }))).toBe('4 (pid 4250, read-only: disk full)');
  });
});
