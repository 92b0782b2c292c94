/**
 * Promise wrappers over the generated grpc-js client, so a test reads as a sequence of calls.
 */
import type { ServiceError } from '@grpc/grpc-js';
import type {
  ArborServiceClient,
  CreateRequest,
  CreateResponse,
  ExecRequest,
  ExecResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  PingRequest,
  PingResponse,
  RemoveRequest,
  RemoveResponse,
  TopologyRequest,
  TopologyResponse,
} from '../../proto/gen/arbor/v1/arbor.js';

type Unary<Req, Res> = (req: Req, callback: (error: ServiceError | null, res: Res) => void) => unknown;

function promisify<Req, Res>(method: Unary<Req, Res>, client: ArborServiceClient): (req: Req) => Promise<Res> {
  return (req) => new Promise<Res>((resolve, reject) => method.call(client, req, (error, res) => (error ? reject(error) : resolve(res))));
}

export function rpc(client: ArborServiceClient): {
  create: (req: Partial<CreateRequest> & { id: number }) => Promise<CreateResponse>;
  exec: (req: Partial<ExecRequest> & { id: number; name: string }) => Promise<ExecResponse>;
  ping: (req: PingRequest) => Promise<PingResponse>;
  heartbeat: (req: HeartbeatRequest) => Promise<HeartbeatResponse>;
  topology: () => Promise<TopologyResponse>;
  remove: (req: RemoveRequest) => Promise<RemoveResponse>;
} {
  return {
    create: promisify(client.create.bind(client) as Unary<CreateRequest, CreateResponse>, client),
    exec: promisify(client.exec.bind(client) as Unary<ExecRequest, ExecResponse>, client),
    ping: promisify(client.ping.bind(client) as Unary<PingRequest, PingResponse>, client),
    heartbeat: promisify(client.heartbeat.bind(client) as Unary<HeartbeatRequest, HeartbeatResponse>, client),
    topology: () => promisify(client.topology.bind(client) as Unary<TopologyRequest, TopologyResponse>, client)({}),
    remove: promisify(client.remove.bind(client) as Unary<RemoveRequest, RemoveResponse>, client),
  };
}
