/**
 * @module The generated messages as the library's public shapes (types.ts). Pure.
 */
import {
  FollowerState as ProtoFollowerState,
  KeyEventKind as ProtoKeyEventKind,
  type KeyEvent as ProtoKeyEvent,
  NodeEventKind as ProtoEventKind,
  NodeState as ProtoNodeState,
  type NodeEvent as ProtoNodeEvent,
  type NodeInfo as ProtoNodeInfo,
  type TopologyResponse,
} from '../../proto/gen/arbor/v1/arbor.js';
import type { FollowerState, KeyEvent, NodeEvent, NodeEventKind, NodeInfo, NodeState, Topology } from './types.js';

const FOLLOWER_STATES: ReadonlyMap<ProtoFollowerState, FollowerState> = new Map([
  [ProtoFollowerState.FOLLOWER_STATE_NONE, 'none'],
  [ProtoFollowerState.FOLLOWER_STATE_STARTING, 'starting'],
  [ProtoFollowerState.FOLLOWER_STATE_CATCHING_UP, 'catching-up'],
  [ProtoFollowerState.FOLLOWER_STATE_IN_SYNC, 'in-sync'],
]);

/** A follower's state as the library names it (the console draws the wire's with it too). */
export const followerStateOf = (state: ProtoFollowerState): FollowerState => FOLLOWER_STATES.get(state) ?? 'unknown';

const EVENT_KINDS: ReadonlyMap<ProtoEventKind, NodeEventKind> = new Map([
  [ProtoEventKind.NODE_EVENT_KIND_CREATED, 'created'],
  [ProtoEventKind.NODE_EVENT_KIND_AVAILABLE, 'available'],
  [ProtoEventKind.NODE_EVENT_KIND_UNAVAILABLE, 'unavailable'],
  [ProtoEventKind.NODE_EVENT_KIND_EXITED, 'exited'],
  [ProtoEventKind.NODE_EVENT_KIND_RESTARTED, 'restarted'],
  [ProtoEventKind.NODE_EVENT_KIND_FAILED, 'failed'],
  [ProtoEventKind.NODE_EVENT_KIND_REMOVED, 'removed'],
]);

const NODE_STATES: ReadonlyMap<ProtoNodeState, NodeState> = new Map([
  [ProtoNodeState.NODE_STATE_STARTING, 'starting'],
  [ProtoNodeState.NODE_STATE_RUNNING, 'running'],
  [ProtoNodeState.NODE_STATE_EXITED, 'exited'],
  [ProtoNodeState.NODE_STATE_RESTARTING, 'restarting'],
  [ProtoNodeState.NODE_STATE_FAILED, 'failed'],
  [ProtoNodeState.NODE_STATE_STOPPING, 'stopping'],
]);

/**
 * An event as `watch()` yields it, or `undefined` for a kind this version does not know (a newer
 * gateway's): skipped rather than shown as something it is not.
 */
export function toNodeEvent(event: ProtoNodeEvent | undefined): NodeEvent | undefined {
  const kind = event === undefined ? undefined : EVENT_KINDS.get(event.kind);
  if (event === undefined || kind === undefined) return undefined;
  return {
    id: event.id,
    kind,
    time: event.time ?? new Date(0),
    reason: event.reason,
    ...(event.exitCode !== undefined && { exitCode: event.exitCode }),
    ...(event.signal !== undefined && { signal: event.signal }),
    ...(event.pid !== undefined && { pid: event.pid }),
  };
}

export function toNodeInfo(node: ProtoNodeInfo): NodeInfo {
  return {
    id: node.id,
    ...(node.parent !== undefined && { parent: node.parent }),
    ...(node.left !== undefined && { left: node.left }),
    ...(node.right !== undefined && { right: node.right }),
    pid: node.pid,
    depth: node.depth,
    available: node.available,
    state: NODE_STATES.get(node.state) ?? 'unknown',
    restarts: node.restarts,
    reason: node.reason,
    keys: node.keys,
    host: node.host,
    readOnly: node.readOnly,
    ...(node.replica !== undefined && {
      replica: {
        epoch: node.replica.epoch,
        follower: followerStateOf(node.replica.followerState),
        ...(node.replica.followerPid !== 0 && { followerPid: node.replica.followerPid }),
        followerHost: node.replica.followerHost,
        solo: node.replica.solo,
      },
    }),
  };
}

export function toTopology(response: TopologyResponse): Topology {
  return {
    nodes: response.nodes.map(toNodeInfo),
    ...(response.root !== undefined && { root: response.root }),
    heartbeatIntervalMs: response.heartbeatIntervalMs,
    balanced: response.balanced,
    ...(response.depthBound !== undefined && { depthBound: response.depthBound }),
  };
}

/** A key event as `watchKeys()` yields it, or `undefined` for a kind this version does not know. */
export function toKeyEvent(event: ProtoKeyEvent): KeyEvent | undefined {
  if (event.kind === ProtoKeyEventKind.KEY_EVENT_KIND_PUT) return { id: event.id, name: event.name, kind: 'put', value: event.value };
  if (event.kind === ProtoKeyEventKind.KEY_EVENT_KIND_DELETE) return { id: event.id, name: event.name, kind: 'delete', value: event.value };
  return undefined;
}
