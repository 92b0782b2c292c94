/**
 * @module The API's calls, each described once: how its arguments are checked, which unary method
 * and which Session command carry it, and what its answer becomes. `ArborClient` (unary calls)
 * and `ArborSession` (pipelined commands) both run these descriptions, so a call added to the
 * API (the dictionary's `delete`, say) is one entry here and one short method in each class.
 */
import type { CallOptions as GrpcCallOptions, ClientUnaryCall, Metadata, ServiceError } from '@grpc/grpc-js';
import type {
  ArborServiceClient,
  CreateRequest,
  CreateResponse,
  DeleteRequest,
  DeleteResponse,
  ExecRequest,
  ExecResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  KeysRequest,
  KeysResponse,
  PingRequest,
  PingResponse,
  RemoveRequest,
  RemoveResponse,
  TopologyRequest,
  TopologyResponse,
} from '../../proto/gen/arbor/v1/arbor.js';
import { checkHeartbeatInterval, checkKeysLimit, checkName, checkNodeId, checkPrefix, checkValue, NO_PARENT } from '../../proto/limits.js';
import { toTopology } from './convert.js';
import type { CommandBody, Outcome } from './session-stream.js';
import type { CallOptions, CreatedNode, KeysPage, Topology } from './types.js';

/** A unary method of the generated client, called with metadata, options and a callback. */
export type UnaryCall<Request, Response> = (
  client: ArborServiceClient,
  request: Request,
  metadata: Metadata,
  options: Partial<GrpcCallOptions>,
  callback: (error: ServiceError | null, response: Response) => void,
) => ClientUnaryCall;

/** One call of the API. */
export interface Operation<Request, Response, Result> {
  /** What is wrong with `request`, in words (the gateway's own wording), or `undefined`. */
  check: (request: Request) => string | undefined;
  /** The node the call is about, for its errors. */
  nodeId: (request: Request) => number | undefined;
  /** The unary call. */
  unary: UnaryCall<Request, Response>;
  /** The Session command, for a call the Session carries. */
  command?: (request: Request) => CommandBody;
  /** The answer in a Session result of the right case, else `undefined`. */
  answer?: (outcome: Outcome) => Response | undefined;
  /** The answer as the method's result. */
  result: (response: Response) => Result;
}

/** The problem with a call's own options, or `undefined`. */
export function checkCallOptions(options: CallOptions): string | undefined {
  const { timeoutMs } = options;
  if (timeoutMs === undefined || (typeof timeoutMs === 'number' && timeoutMs > 0 && Number.isFinite(timeoutMs))) return undefined;
  return `timeoutMs ${String(timeoutMs)} is invalid: expected a positive number of milliseconds`;
}

function checkExec(request: ExecRequest): string | undefined {
  const problem = checkNodeId(request.id) ?? checkName(request.name);
  if (problem !== undefined || request.value === undefined) return problem;
  if (typeof request.value !== 'bigint') return `value ${String(request.value)} is not a bigint: values are signed 64-bit integers (write 42n)`;
  return checkValue(request.value);
}

export const create: Operation<CreateRequest, CreateResponse, CreatedNode> = {
  check: (r) =>
    checkNodeId(r.id) ??
    (r.parent === undefined || r.parent === NO_PARENT ? undefined : checkNodeId(r.parent, 'parent')) ??
    (r.host === undefined || (typeof r.host === 'string' && r.host !== '') ? undefined : 'host is empty: expected a host name'),
  nodeId: (r) => r.id,
  unary: (client, request, metadata, options, callback) => client.create(request, metadata, options, callback),
  command: (request) => ({ $case: 'create', value: request }),
  answer: (outcome) => (outcome.$case === 'create' ? outcome.value : undefined),
  result: (r) => ({ id: r.id, pid: r.pid, ...(r.parent !== undefined && { parent: r.parent }) }),
};

const exec = {
  check: checkExec,
  nodeId: (r: ExecRequest) => r.id,
  unary: ((client, request, metadata, options, callback) => client.exec(request, metadata, options, callback)) as UnaryCall<ExecRequest, ExecResponse>,
  command: (request: ExecRequest): CommandBody => ({ $case: 'exec', value: request }),
  answer: (outcome: Outcome) => (outcome.$case === 'exec' ? outcome.value : undefined),
};

export const store: Operation<ExecRequest, ExecResponse, void> = { ...exec, result: () => undefined };

export const load: Operation<ExecRequest, ExecResponse, bigint | undefined> = {
  ...exec,
  result: (r) => (r.found ? r.value : undefined),
};

export const ping: Operation<PingRequest, PingResponse, boolean> = {
  check: (r) => checkNodeId(r.id),
  nodeId: (r) => r.id,
  unary: (client, request, metadata, options, callback) => client.ping(request, metadata, options, callback),
  command: (request) => ({ $case: 'ping', value: request }),
  answer: (outcome) => (outcome.$case === 'ping' ? outcome.value : undefined),
  result: (r) => r.available,
};

export const heartbeat: Operation<HeartbeatRequest, HeartbeatResponse, number> = {
  check: (r) => checkHeartbeatInterval(r.intervalMs),
  nodeId: () => undefined,
  unary: (client, request, metadata, options, callback) => client.heartbeat(request, metadata, options, callback),
  command: (request) => ({ $case: 'heartbeat', value: request }),
  answer: (outcome) => (outcome.$case === 'heartbeat' ? outcome.value : undefined),
  result: (r) => r.intervalMs,
};

export const remove: Operation<RemoveRequest, RemoveResponse, void> = {
  check: (r) => checkNodeId(r.id),
  nodeId: (r) => r.id,
  unary: (client, request, metadata, options, callback) => client.remove(request, metadata, options, callback),
  command: (request) => ({ $case: 'remove', value: request }),
  answer: (outcome) => (outcome.$case === 'remove' ? outcome.value : undefined),
  result: () => undefined,
};

/** Unary only: the Session has no topology command. */
export const topology: Operation<TopologyRequest, TopologyResponse, Topology> = {
  check: () => undefined,
  nodeId: () => undefined,
  unary: (client, request, metadata, options, callback) => client.topology(request, metadata, options, callback),
  result: toTopology,
};

export const deleteName: Operation<DeleteRequest, DeleteResponse, boolean> = {
  check: (r) => checkNodeId(r.id) ?? checkName(r.name),
  nodeId: (r) => r.id,
  unary: (client, request, metadata, options, callback) => client.delete(request, metadata, options, callback),
  command: (request) => ({ $case: 'delete', value: request }),
  answer: (outcome) => (outcome.$case === 'delete' ? outcome.value : undefined),
  result: (r) => r.found,
};

/** One page of a node's names (the Session carries it too, as the console's `keys` does). */
export const keysPage: Operation<KeysRequest, KeysResponse, KeysPage> = {
  check: (r) => checkNodeId(r.id) ?? checkPrefix(r.prefix) ?? checkKeysLimit(r.limit) ?? (r.startAfter === '' ? undefined : checkName(r.startAfter)),
  nodeId: (r) => r.id,
  unary: (client, request, metadata, options, callback) => client.keys(request, metadata, options, callback),
  command: (request) => ({ $case: 'keys', value: request }),
  answer: (outcome) => (outcome.$case === 'keys' ? outcome.value : undefined),
  result: (r) => ({ entries: r.entries.map(({ name, value }) => ({ name, value })), more: r.more, revision: r.revision }),
};
