/**
 * @module What an availability event says about the tree the page holds, before the next
 * Topology answer confirms it. Pure.
 *
 * The page redraws from Topology after every event; applying the event first draws the change
 * one round trip sooner (a node turns unavailable as soon as the event arrives). Only what the
 * event states for sure is changed: availability and its reason, and the pid of a new process.
 * Anything else (moves, new nodes, removals) waits for Topology.
 */
import { NodeEventKind, type NodeEvent, NodeState, type TopologyResponse } from '../../proto/gen/arbor/v1/arbor.js';

export function applyEvent(topology: TopologyResponse, event: NodeEvent): TopologyResponse {
  const index = topology.nodes.findIndex((n) => n.id === event.id);
  const node = topology.nodes[index];
  if (node === undefined) return topology;
  let changed: typeof node;
  switch (event.kind) {
    case NodeEventKind.NODE_EVENT_KIND_UNAVAILABLE:
      changed = { ...node, available: false, reason: event.reason };
      break;
    case NodeEventKind.NODE_EVENT_KIND_AVAILABLE:
      changed = { ...node, available: true, reason: '' };
      break;
    case NodeEventKind.NODE_EVENT_KIND_RESTARTED:
      changed = { ...node, available: true, reason: '', state: NodeState.NODE_STATE_RUNNING, pid: event.pid ?? node.pid };
      break;
    case NodeEventKind.NODE_EVENT_KIND_FAILED:
      changed = { ...node, available: false, reason: event.reason, state: NodeState.NODE_STATE_FAILED };
      break;
    default:
      return topology;
  }
  const nodes = [...topology.nodes];
  nodes[index] = changed;
  return { ...topology, nodes };
}
