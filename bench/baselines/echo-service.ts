/**
 * @module The minimal grpc-js echo service of the baselines.
 *
 * It reuses arbor's own messages and generated codecs (ExecRequest → ExecResponse for the
 * unary echo, SessionRequest → SessionResponse for the bidi stream), so the bytes on the wire,
 * the (de)serialisation and the client code are exactly those of the arbor measurements: the
 * difference between a baseline and its arbor row is arbor's own work (control, tree, nodes).
 */
import {
  type Client,
  type ClientDuplexStream,
  type ClientUnaryCall,
  makeGenericClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  ArborServiceService,
  type ExecRequest,
  type ExecResponse,
  type SessionRequest,
  type SessionResponse,
} from '../../proto/gen/arbor/v1/arbor.js';

export const EchoService = {
  echo: { ...ArborServiceService.exec, path: '/bench.v1.EchoService/Echo' as const },
  relay: { ...ArborServiceService.exec, path: '/bench.v1.EchoService/Relay' as const },
  stream: { ...ArborServiceService.session, path: '/bench.v1.EchoService/Stream' as const },
};

export interface EchoClient extends Client {
  echo(request: ExecRequest, callback: (error: ServiceError | null, response: ExecResponse) => void): ClientUnaryCall;
  relay(request: ExecRequest, callback: (error: ServiceError | null, response: ExecResponse) => void): ClientUnaryCall;
  stream(): ClientDuplexStream<SessionRequest, SessionResponse>;
}

export const EchoClient = makeGenericClientConstructor(EchoService, 'bench.v1.EchoService') as unknown as new (
  address: string,
  credentials: import('@grpc/grpc-js').ChannelCredentials,
) => EchoClient;

/** What the echo answers to an exec: what arbor answers to a store (found, the value). */
export function echoed(req: ExecRequest): ExecResponse {
  return { id: req.id, name: req.name, found: true, value: req.value ?? 0n };
}
