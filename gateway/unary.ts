/**
 * @module Adapts a promise-returning command to a grpc-js unary handler. grpc-js ignores the
 * promise an async handler returns, so every outcome is turned into exactly one callback here,
 * and measured.
 */
import { Metadata, status, type handleUnaryCall, type ServerUnaryCall } from '@grpc/grpc-js';
import type { CallOptions } from '../control/index.js';
import type { GatewayContext } from './context.js';
import { callOptions } from './deadline.js';
import { UNARY_MAX_IN_FLIGHT } from './limits.js';
import { toStatus } from './status.js';

export function unary<Req, Res>(
  ctx: GatewayContext,
  rpc: string,
  run: (req: Req, call: CallOptions) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback) => {
    const done = ctx.metrics.start(rpc);
    if (ctx.load.unary >= UNARY_MAX_IN_FLIGHT) {
      done(status.RESOURCE_EXHAUSTED);
      callback({ code: status.RESOURCE_EXHAUSTED, details: `too many calls in flight (${UNARY_MAX_IN_FLIGHT}); retry later or use Session` });
      return;
    }
    ctx.load.unary++;
    run(call.request, callOptions(call.getDeadline())).then(
      (res) => {
        ctx.load.unary--;
        done(status.OK);
        callback(null, res);
      },
      (error: unknown) => {
        ctx.load.unary--;
        const failed = toStatus(error, ctx.log);
        done(failed.code);
        const metadata = new Metadata();
        if (failed.reason !== '') metadata.set('arbor-reason', failed.reason);
        callback({ code: failed.code, details: failed.details, metadata });
      },
    );
  };
}
