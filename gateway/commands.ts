/**
 * @module Each API command once: validate the request, call the control, build the response.
 * Unary calls and Session streams both go through here.
 */
import {
  checkHeartbeatInterval,
  checkKeysLimit,
  checkName,
  checkNodeId,
  checkPrefix,
  checkValue,
  DEFAULT_KEYS_LIMIT,
  NO_PARENT,
} from '../proto/limits.js';
import {
  type CreateRequest,
  type CreateResponse,
  type DeleteRequest,
  type DeleteResponse,
  type ExecRequest,
  type ExecResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type KeysRequest,
  type KeysResponse,
  type NodeState as ApiNodeState,
  followerStateFromJSON,
  nodeStateFromJSON,
  type PingRequest,
  type PingResponse,
  type RemoveRequest,
  type RemoveResponse,
  type SessionCommand,
  type SessionResult,
  type TopologyResponse,
} from '../proto/gen/arbor/v1/arbor.js';
import { type CallOptions, type Control, invalidArgument, type NodeState } from '../control/index.js';

function refuse(problem: string): Promise<never> {
  return Promise.reject(invalidArgument(problem));
}

export function create(control: Control, req: CreateRequest, call: CallOptions): Promise<CreateResponse> {
  const parent = req.parent === undefined || req.parent === NO_PARENT ? undefined : req.parent;
  const problem = checkNodeId(req.id) ?? (parent === undefined ? undefined : checkNodeId(parent, 'parent'));
  const hostProblem = req.host === undefined || /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(req.host) ? undefined : `host ${JSON.stringify(req.host.slice(0, 80))}: expected a host name (letters, digits, . _ -; at most 63)`;
  if (problem !== undefined || hostProblem !== undefined) return refuse((problem ?? hostProblem) as string);
  return control
    .create(req.id, parent, call, req.host)
    .then((created) => ({ id: created.id, pid: created.pid, parent: created.parent ?? undefined }));
}

export function exec(control: Control, req: ExecRequest, call: CallOptions): Promise<ExecResponse> {
  const problem =
    checkNodeId(req.id) ?? checkName(req.name) ?? (req.value === undefined ? undefined : checkValue(req.value));
  if (problem !== undefined) return refuse(problem);
  return control.exec(req.id, req.name, req.value, call);
}

export function keys(control: Control, req: KeysRequest, call: CallOptions): Promise<KeysResponse> {
  const problem = checkNodeId(req.id) ?? checkPrefix(req.prefix) ?? checkPrefix(req.startAfter, 'start_after') ?? checkKeysLimit(req.limit);
  if (problem !== undefined) return refuse(problem);
  return control
    .keys(req.id, req.prefix, req.startAfter, req.limit === 0 ? DEFAULT_KEYS_LIMIT : req.limit, call)
    .then(({ entries, more, revision }) => ({ entries, more, revision }));
}

export function del(control: Control, req: DeleteRequest, call: CallOptions): Promise<DeleteResponse> {
  const problem = checkNodeId(req.id) ?? checkName(req.name);
  if (problem !== undefined) return refuse(problem);
  return control.delete(req.id, req.name, call);
}

export function ping(control: Control, req: PingRequest, call: CallOptions): Promise<PingResponse> {
  const problem = checkNodeId(req.id);
  if (problem !== undefined) return refuse(problem);
  return control.ping(req.id, call);
}

export function remove(control: Control, req: RemoveRequest): Promise<RemoveResponse> {
  const problem = checkNodeId(req.id);
  if (problem !== undefined) return refuse(problem);
  return control.remove(req.id);
}

export function heartbeat(control: Control, req: HeartbeatRequest): Promise<HeartbeatResponse> {
  const problem = checkHeartbeatInterval(req.intervalMs);
  if (problem !== undefined) return refuse(problem);
  return control.setHeartbeat(req.intervalMs).then(() => ({ intervalMs: control.heartbeatInterval }));
}

/** Runs one Session command; the result is the matching member of SessionResult's oneof. */
export function run(
  control: Control,
  command: SessionCommand['command'],
  call: CallOptions,
): Promise<NonNullable<SessionResult['result']>> {
  switch (command?.$case) {
    case 'create':
      return create(control, command.value, call).then((value) => ({ $case: 'create', value }));
    case 'exec':
      return exec(control, command.value, call).then((value) => ({ $case: 'exec', value }));
    case 'ping':
      return ping(control, command.value, call).then((value) => ({ $case: 'ping', value }));
    case 'heartbeat':
      return heartbeat(control, command.value).then((value) => ({ $case: 'heartbeat', value }));
    case 'remove':
      return remove(control, command.value).then((value) => ({ $case: 'remove', value }));
    case 'keys':
      return keys(control, command.value, call).then((value) => ({ $case: 'keys', value }));
    case 'delete':
      return del(control, command.value, call).then((value) => ({ $case: 'delete', value }));
    case undefined:
      return refuse('command is missing: expected one of create, exec, ping, heartbeat, remove, keys, delete');
  }
}

/** The API's name of a lifecycle state is the control's, upper-cased (`restarting` → NODE_STATE_RESTARTING). */
const apiState = (state: NodeState): ApiNodeState => nodeStateFromJSON(`NODE_STATE_${state.toUpperCase()}`);

export function topology(control: Control): Promise<TopologyResponse> {
  const snapshot = control.topology();
  return Promise.resolve({
    nodes: snapshot.nodes.map((n) => ({
      id: n.id,
      parent: n.parent ?? undefined,
      left: n.left ?? undefined,
      right: n.right ?? undefined,
      pid: n.pid ?? 0,
      depth: n.depth,
      available: n.available,
      state: apiState(n.state),
      restarts: n.restarts,
      keys: n.keys,
      reason: n.reason ?? '',
      host: n.host,
      readOnly: n.readOnly ?? '',
      ...(n.replica !== undefined && {
        replica: {
          epoch: n.replica.epoch,
          followerState: followerStateFromJSON(`FOLLOWER_STATE_${n.replica.followerState.replace('-', '_').toUpperCase()}`),
          followerPid: n.replica.followerPid ?? 0,
          followerHost: n.replica.followerHost,
          solo: n.replica.solo,
        },
      }),
    })),
    root: snapshot.root ?? undefined,
    heartbeatIntervalMs: snapshot.heartbeatMs,
    balanced: snapshot.balanced,
    depthBound: snapshot.depthBound ?? undefined,
  });
}
