/**
 * @module The web view's API handler: the ArborService over the Connect protocol
 * (connect-service.ts), with the token rule of gRPC. Loaded by web-server.ts at the first API
 * call, so the gateway's start does not pay for Connect and the protobuf-es schemas.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { ArborService } from '../proto/gen-es/arbor/v1/arbor_pb.js';
import { expectedToken, matches, TOKEN_REFUSED } from './auth.js';
import { connectArborService } from './connect-service.js';
import type { GatewayContext } from './context.js';

export type WebApi = (req: IncomingMessage, res: ServerResponse) => void;

function tokenInterceptor(token: string): Interceptor {
  const expected = expectedToken(token);
  return (next) => (req) => {
    if (!matches(req.header.get('authorization') ?? undefined, expected)) throw new ConnectError(TOKEN_REFUSED, Code.Unauthenticated);
    return next(req);
  };
}

export function webApi(ctx: GatewayContext, maxBodyBytes: number, token: string | undefined): WebApi {
  return connectNodeAdapter({
    routes: (router) => router.service(ArborService, connectArborService(ctx)),
    // The Connect protocol only: what connect-web speaks. gRPC has its own port.
    grpc: false,
    grpcWeb: false,
    readMaxBytes: maxBodyBytes,
    interceptors: token === undefined ? [] : [tokenInterceptor(token)],
    fallback: (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found: unknown API method\n');
    },
  });
}
