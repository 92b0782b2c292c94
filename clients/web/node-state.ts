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
