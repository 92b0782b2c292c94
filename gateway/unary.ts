/**
 * @module Adapts a promise-returning command to a grpc-js unary handler. grpc-js ignores the
 * promise an async handler returns, so every outcome is turned into exactly one callback here.
 */
import type { handleUnaryCall, ServerUnaryCall } from '@grpc/grpc-js';
import type { CallOptions } from '../control/index.js';
import { callOptions } from './deadline.js';
import { toStatus } from './status.js';

export function unary<Req, Res>(run: (req: Req, call: CallOptions) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback) => {
    run(call.request, callOptions(call.getDeadline())).then(
      (res) => callback(null, res),
      (error: unknown) => callback(toStatus(error)),
    );
  };
}
