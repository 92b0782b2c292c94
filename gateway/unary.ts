/**
 * @module Runs one unary command for any transport: the in-flight limit, the metrics, and the
 * failure as a status, once. `unary()` adapts it to a grpc-js handler (grpc-js ignores the
 * promise an async handler returns, so every outcome is turned into exactly one callback here);
 * the Connect handlers (`connect-service.ts`) call `runUnary` directly.
 */
import { Metadata, status, type handleUnaryCall, type ServerUnaryCall } from '@grpc/grpc-js';
import type { CallOptions } from '../control/index.js';
import type { GatewayContext } from './context.js';
import { callOptions } from './deadline.js';
import { UNARY_MAX_IN_FLIGHT } from './limits.js';
import { type Status, toStatus } from './status.js';

/** A command's answer, or its failure as a status (never a rejection). */
export type UnaryOutcome<Res> = { ok: Res } | { failed: Status };

export async function runUnary<Res>(ctx: GatewayContext, rpc: string, run: () => Promise<Res>): Promise<UnaryOutcome<Res>> {
  const done = ctx.metrics.start(rpc);
  if (ctx.load.unary >= UNARY_MAX_IN_FLIGHT) {
    done(status.RESOURCE_EXHAUSTED);
    return { failed: { code: status.RESOURCE_EXHAUSTED, details: `too many calls in flight (${UNARY_MAX_IN_FLIGHT}); retry later or use Session`, reason: '' } };
  }
  ctx.load.unary++;
  try {
    const res = await run();
    done(status.OK);
    return { ok: res };
  } catch (error) {
    const failed = toStatus(error, ctx.log);
    done(failed.code);
    return { failed };
  } finally {
    ctx.load.unary--;
  }
}

export function unary<Req, Res>(
  ctx: GatewayContext,
  rpc: string,
  run: (req: Req, call: CallOptions) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback) => {
    const { options, done } = callOptions(call);
    void runUnary(ctx, rpc, () => run(call.request, options)).then((outcome) => {
      done();
      if ('ok' in outcome) {
        callback(null, outcome.ok);
        return;
      }
      const { failed } = outcome;
      const metadata = new Metadata();
      if (failed.reason !== '') metadata.set('arbor-reason', failed.reason);
      callback({ code: failed.code, details: failed.details, metadata });
    });
  };
}
