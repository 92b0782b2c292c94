/**
 * @module The console's views of a `Topology`: `tree`, `status` and `tree --json`. Pure.
 *
 * `tree` draws the search tree with box-drawing characters, the root first and each node's
 * children below it, left (smaller ids) before right, each marked `L` or `R`:
 *
 * ```
 * 8 (pid 4242)
 * ├─L 6 (pid 4243)
 * │   └─L 2 (pid 4250) ✗ unavailable
 * └─R 11 (pid 4244)
 *     ├─L 9 (pid 4245) ✗ exited
 *     └─R 13 (pid 4246) … starting
 * ```
 *
 * A node's mark: `✗ exited` (its process exited, not restarted), `✗ failed` (given up after
 * crashing too often), `… starting` (not connected yet), `… restarting` (a new process is taking
 * its place), `✗ unavailable` (running but not reachable now), nothing when it is available. An empty tree
 * is `(no nodes)`. A malformed answer (a child id with no entry, a loop, a node no link reaches)
 * is still drawn, marked, never an exception.
 *
 * `status` is one line: `nodes 5, depth 2 (AVL bound 2), heartbeat 100 ms, unavailable 1` (depth:
 * edges from the root to the deepest node; the bound, the deepest an AVL tree of that many nodes
 * can be, only when the tree is kept balanced; `heartbeat off` when the interval is 0).
 *
 * `tree --json` is one JSON object with every field present (absent links are `null`, states
 * lowercase): `{"root":8,"heartbeatIntervalMs":100,"nodes":[{"id":8,"parent":null,"left":6,
 * "right":11,"pid":4242,"depth":0,"available":true,"state":"running"}, ...]}`.
 */
import { type NodeInfo as WireNodeInfo, type NodeState, nodeStateToJSON, type TopologyResponse } from '../proto/gen/arbor/v1/arbor.js';
import { followerStateOf } from './lib/convert.js';
import type { NodeInfo as LibNodeInfo, Topology as LibTopology } from './lib/types.js';

/**
 * A tree as the library gives it (the console) or as the wire carries it (the web view, which
 * draws the same text): the same fields, the state a string or the wire's enum.
 */
type Topology = LibTopology | TopologyResponse;
type NodeInfo = LibNodeInfo | WireNodeInfo;

/** A node's state as a lowercase word (`restarting`), whichever shape it came in. */
const stateOf = (node: NodeInfo): string => (typeof node.state === 'number' ? stateName(node.state) : node.state);
import type { TopologyCommand } from './command.js';

/** The answer to `tree` (drawn, or with `--json` one JSON line) or `status`. */
export function topologyText(command: TopologyCommand, topology: Topology): string {
  if (command.kind === 'status') return statusLine(topology);
  return command.json ? JSON.stringify(topologyJson(topology)) : drawTree(topology);
}

/** The text of `tree` (several lines, no trailing newline). */
export function drawTree(topology: Topology): string {
  const byId = new Map<number, NodeInfo>(topology.nodes.map((node: NodeInfo) => [node.id, node]));
  const drawn = new Set<number>();
  const lines: string[] = [];

  const draw = (id: number, lead: string, branch: string, childLead: string): void => {
    const node = byId.get(id);
    if (node === undefined) {
      lines.push(`${lead}${branch}${id} ? missing from the answer`);
      return;
    }
    if (drawn.has(id)) {
      lines.push(`${lead}${branch}${id} ? drawn above already`);
      return;
    }
    drawn.add(id);
    lines.push(`${lead}${branch}${describeNode(node)}`);
    const children = [
      ['L', node.left],
      ['R', node.right],
    ].filter((entry): entry is [string, number] => entry[1] !== undefined);
    children.forEach(([side, child], index) => {
      const last = index === children.length - 1;
      draw(child, lead + childLead, `${last ? '└─' : '├─'}${side} `, last ? '    ' : '│   ');
    });
  };

  if (topology.root !== undefined) draw(topology.root, '', '', '');
  /* Nodes no link reaches (only in a malformed answer) are drawn as trees of their own. */
  for (const node of topology.nodes) {
    if (!drawn.has(node.id)) {
      lines.push(`? not linked from the root:`);
      draw(node.id, '', '', '');
    }
  }
  return lines.length === 0 ? '(no nodes)' : lines.join('\n');
}

/**
 * One node's label: `6 (pid 4243)` (`6 (pid 4243 on b)` on another host) (`(no pid yet)` before its process is spawned; `, restarts 2`
 * once its process was replaced) and its mark.
 */
export function describeNode(node: NodeInfo): string {
  const mark = nodeMark(node);
  const pid = node.pid === 0 ? 'no pid yet' : `pid ${node.pid}`;
  const restarts = node.restarts > 0 ? `, restarts ${node.restarts}` : '';
  // Other hosts: where it runs, unless on the gateway's host under its default name (so one-host output is unchanged).
  const host = node.host !== '' && node.host !== 'local' ? ` on ${node.host}` : '';
  const readOnly = node.readOnly !== '' ? `, read-only: ${node.readOnly}` : '';
  return `${node.id} (${pid}${host}${restarts}${replicaText(node)}${readOnly})${mark === '' ? '' : ` ${mark}`}`;
}

/**
 * --replicas 2 only (nothing otherwise): where its copy is, e.g. `, leads epoch 2, copy pid 4250
 * in-sync` (`on b` when the copy is on another host; `, solo` while it acknowledges alone).
 */
export function replicaText(node: NodeInfo): string {
  const r = replicaOf(node);
  if (r === undefined) return '';
  const where = r.followerPid === null ? '' : ` pid ${r.followerPid}${r.followerHost !== '' && r.followerHost !== 'local' ? ` on ${r.followerHost}` : ''}`;
  return `, leads epoch ${r.epoch}, copy${where} ${r.follower}${r.solo ? ', solo' : ''}`;
}

/** A node's chain in one shape (the follower's state a lowercase word), whichever shape it came in. */
function replicaOf(node: NodeInfo): { epoch: number; follower: string; followerPid: number | null; followerHost: string; solo: boolean } | undefined {
  const r = node.replica;
  if (r === undefined) return undefined;
  if ('followerState' in r) {
    const follower = followerStateOf(r.followerState);
    return { epoch: r.epoch, follower, followerPid: r.followerPid === 0 ? null : r.followerPid, followerHost: r.followerHost, solo: r.solo };
  }
  return { epoch: r.epoch, follower: r.follower, followerPid: r.followerPid ?? null, followerHost: r.followerHost, solo: r.solo };
}

/** `✗ exited`, `✗ failed`, `… starting`, `… restarting`, `… stopping`, `✗ unavailable`, or `''` for an available node. */
export function nodeMark(node: NodeInfo): string {
  const state = stateOf(node);
  switch (state) {
    case 'exited':
      return '✗ exited';
    case 'failed':
      return '✗ failed';
    case 'starting':
    case 'restarting':
    case 'stopping':
      return `… ${state}`;
    default:
      return node.available ? '' : '✗ unavailable';
  }
}

/** The numbers `status` shows. */
export interface StatusCounts {
  nodes: number;
  /** Edges from the root to the deepest node (0 for a lone root or an empty tree). */
  depth: number;
  heartbeatIntervalMs: number;
  /** Nodes not reachable now (exited and starting ones included). */
  unavailable: number;
  /** The deepest an AVL tree of this many nodes can be; null when the tree is not kept balanced. */
  depthBound: number | null;
}

/** Counts the nodes, the depth and the unavailable nodes. */
export function statusCounts(topology: Topology): StatusCounts {
  return {
    nodes: topology.nodes.length,
    depth: topology.nodes.reduce((deepest, node) => Math.max(deepest, node.depth), 0),
    heartbeatIntervalMs: topology.heartbeatIntervalMs,
    unavailable: topology.nodes.filter((node) => !node.available).length,
    depthBound: topology.depthBound ?? null,
  };
}

/** The `status` line, e.g. `nodes 5, depth 2, heartbeat 100 ms, unavailable 1`. */
export function statusLine(topology: Topology): string {
  const { nodes, depth, heartbeatIntervalMs, unavailable, depthBound } = statusCounts(topology);
  const heartbeat = heartbeatIntervalMs === 0 ? 'off' : `${heartbeatIntervalMs} ms`;
  const bound = depthBound === null ? '' : ` (AVL bound ${depthBound})`;
  return `nodes ${nodes}, depth ${depth}${bound}, heartbeat ${heartbeat}, unavailable ${unavailable}`;
}

/** `restarting` for NODE_STATE_RESTARTING (the generated name, shortened; the web view reads the wire's enum). */
export const stateName = (state: NodeState): string => nodeStateToJSON(state).replace(/^NODE_STATE_/, '').toLowerCase();

/** The topology as a plain object for `JSON.stringify` (every field present). */
export function topologyJson(topology: Topology): Record<string, unknown> {
  return {
    root: topology.root ?? null,
    heartbeatIntervalMs: topology.heartbeatIntervalMs,
    balanced: topology.balanced,
    nodes: topology.nodes.map((node) => ({
      id: node.id,
      parent: node.parent ?? null,
      left: node.left ?? null,
      right: node.right ?? null,
      pid: node.pid,
      depth: node.depth,
      available: node.available,
      state: stateOf(node),
      restarts: node.restarts,
      reason: node.reason === '' ? null : node.reason,
      ...(replicaOf(node) !== undefined && { replica: replicaOf(node) }),
    })),
  };
}
