/**
 * @module What a drawn node's `data-state` (and colour) is. Pure.
 *
 * The page shows five states: `available`, `unavailable` (running but not reachable now),
 * `starting`, `restarting`, `failed`. The API's lifecycle has two more, folded in where they look
 * alike to a person: `exited` (dead for good, with --restart never) is `failed`, and `stopping`
 * (being removed) is `unavailable`.
 */
import { NodeState, type NodeInfo } from '../../proto/gen/arbor/v1/arbor.js';

export type DrawnState = 'available' | 'unavailable' | 'starting' | 'restarting' | 'failed';

export const DRAWN_STATES: readonly DrawnState[] = ['available', 'unavailable', 'starting', 'restarting', 'failed'];

export function drawnState(node: NodeInfo): DrawnState {
  switch (node.state) {
    case NodeState.NODE_STATE_STARTING:
      return 'starting';
    case NodeState.NODE_STATE_RESTARTING:
      return 'restarting';
    case NodeState.NODE_STATE_FAILED:
    case NodeState.NODE_STATE_EXITED:
      return 'failed';
    case NodeState.NODE_STATE_STOPPING:
      return 'unavailable';
    default:
      return node.available ? 'available' : 'unavailable';
  }
}

/** Worst first: what a collapsed subtree shows is the first of these it holds. */
const BY_SEVERITY: readonly DrawnState[] = ['failed', 'unavailable', 'restarting', 'starting', 'available'];

/** The worst state with a non-zero count (`available` when all are zero). */
export function worstState(counts: Readonly<Record<DrawnState, number>>): DrawnState {
  return BY_SEVERITY.find((state) => counts[state] > 0) ?? 'available';
}

/**
 * The sign drawn with each state, so colour is never the only one (style.css adds a border
 * pattern too): none for the usual case, a cross for unavailable, and so on. The legend shows them.
 */
export const STATE_SIGN: Readonly<Record<DrawnState, string>> = {
  available: '',
  unavailable: '✕',
  starting: '…',
  restarting: '↻',
  failed: '!',
};

/** How many nodes are in each drawn state. */
export function stateCounts(nodes: readonly NodeInfo[]): Record<DrawnState, number> {
  const counts: Record<DrawnState, number> = { available: 0, unavailable: 0, starting: 0, restarting: 0, failed: 0 };
  for (const node of nodes) counts[drawnState(node)]++;
  return counts;
}

/** A node's accessible name: `node 8, available, 3 names`, and what a collapsed node hides. */
export function nodeLabel(node: NodeInfo, hidden?: { size: number; worst: DrawnState }): string {
  const names = `${node.keys} ${node.keys === 1 ? 'name' : 'names'}`;
  const base = `node ${node.id}, ${drawnState(node)}, ${names}`;
  if (hidden === undefined) return base;
  return `${base}, collapsed: ${hidden.size} ${hidden.size === 1 ? 'node' : 'nodes'} below${hidden.worst === 'available' ? '' : `, worst ${hidden.worst}`}`;
}
