/**
 * @module The ArborService over the Connect protocol (for the web view): the same command
 * functions (`commands.ts`), the same unary limits and metrics (`runUnary`), the same Watch feed
 * (`watch-feed.ts`) as the grpc-js service; only the message shape differs (protobuf-es here,
 * converted through the binary encoding by `proto/es-bridge.ts`).
 *
 * Session is not served: browsers cannot open bidirectional streams, so the page uses the unary
 * calls and Watch. A call to it answers UNIMPLEMENTED (Connect's default for a missing method).
 */
import { ConnectError, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import * as ts from '../proto/gen/arbor/v1/arbor.js';
import * as es from '../proto/gen-es/arbor/v1/arbor_pb.js';
import { fromEs, toEs, type TsProtoCodec } from '../proto/es-bridge.js';
import type { CallOptions } from '../control/index.js';
import * as commands from './commands.js';
import type { GatewayContext } from './context.js';
import { eventMessage } from './event-message.js';
import type { Status } from './status.js';
import { runUnary } from './unary.js';
import { type FeedEnd, openWatchFeed } from './watch-feed.js';

type ArborServiceImpl = ServiceImpl<typeof es.ArborService>;

/** A failure as Connect's error. Connect's codes are gRPC's numbers; the reason rides as `arbor-reason`, as on gRPC. */
function connectError({ code, details, reason }: Status): ConnectError {
  const same: number = code;
  return new ConnectError(details, same, reason === '' ? undefined : { 'arbor-reason': reason });
}

/** The caller's timeout (header `connect-timeout-ms`) as the control's absolute deadline, and its cancel. */
function callOptions(context: HandlerContext): CallOptions {
  const ms = context.timeoutMs();
  return { signal: context.signal, ...(ms !== undefined && { deadline: Date.now() + ms }) };
}

export function connectArborService(ctx: GatewayContext): Partial<ArborServiceImpl> {
  const { control } = ctx;

  /** One unary RPC: the request converted in, the command run as over gRPC, the answer converted out. */
  function unaryCall<ReqDesc extends DescMessage, Req, ResDesc extends DescMessage, Res>(
    rpc: string,
    request: [ReqDesc, TsProtoCodec<Req>],
    response: [ResDesc, TsProtoCodec<Res>],
    run: (req: Req, call: CallOptions) => Promise<Res>,
  ) {
    return async (req: MessageShape<ReqDesc>, context: HandlerContext): Promise<MessageShape<ResDesc>> => {
      const outcome = await runUnary(ctx, rpc, () => run(fromEs(request[0], request[1], req), callOptions(context)));
      if ('failed' in outcome) throw connectError(outcome.failed);
      return toEs(response[0], response[1], outcome.ok);
    };
  }

  return {
    create: unaryCall('Create', [es.CreateRequestSchema, ts.CreateRequest], [es.CreateResponseSchema, ts.CreateResponse], (req, call) =>
      commands.create(control, req, call),
    ),
    exec: unaryCall('Exec', [es.ExecRequestSchema, ts.ExecRequest], [es.ExecResponseSchema, ts.ExecResponse], (req, call) =>
      commands.exec(control, req, call),
    ),
    ping: unaryCall('Ping', [es.PingRequestSchema, ts.PingRequest], [es.PingResponseSchema, ts.PingResponse], (req, call) =>
      commands.ping(control, req, call),
    ),
    heartbeat: unaryCall('Heartbeat', [es.HeartbeatRequestSchema, ts.HeartbeatRequest], [es.HeartbeatResponseSchema, ts.HeartbeatResponse], (req) =>
      commands.heartbeat(control, req),
    ),
    topology: unaryCall('Topology', [es.TopologyRequestSchema, ts.TopologyRequest], [es.TopologyResponseSchema, ts.TopologyResponse], () =>
      commands.topology(control),
    ),
    remove: unaryCall('Remove', [es.RemoveRequestSchema, ts.RemoveRequest], [es.RemoveResponseSchema, ts.RemoveResponse], (req) =>
      commands.remove(control, req),
    ),
    keys: unaryCall('Keys', [es.KeysRequestSchema, ts.KeysRequest], [es.KeysResponseSchema, ts.KeysResponse], (req, call) => commands.keys(control, req, call)),
    delete: unaryCall('Delete', [es.DeleteRequestSchema, ts.DeleteRequest], [es.DeleteResponseSchema, ts.DeleteResponse], (req, call) => commands.del(control, req, call)),
    watch: (req, context) => watchStream(ctx, req.backlog, context),
  };
}

/**
 * Watch as an async generator, pulled by the Connect adapter as the connection takes data: the
 * sink holds at most one event and reports itself full, so the feed's bounded queue (and its
 * RESOURCE_EXHAUSTED rule) is the only buffer, as over gRPC.
 */
async function* watchStream(ctx: GatewayContext, backlog: number, context: HandlerContext): AsyncGenerator<es.WatchResponse> {
  let next: ts.WatchResponse | undefined;
  let ended: FeedEnd | undefined;
  let wake = (): void => undefined;
  const feed = openWatchFeed(ctx, {
    write: (event) => {
      next = { event: eventMessage(event) };
      wake();
      return false;
    },
    end: (how) => {
      ended = how;
      wake();
    },
  }, backlog);
  if ('refused' in feed) throw connectError({ ...feed.refused, reason: '' });
  const onAbort = (): void => {
    ended ??= {};
    wake();
  };
  context.signal.addEventListener('abort', onAbort);
  try {
    for (;;) {
      if (next === undefined && ended === undefined) {
        const woken = new Promise<void>((resolve) => (wake = resolve));
        feed.resume();
        await woken;
      }
      if (next !== undefined) {
        const response = next;
        next = undefined;
        yield toEs(es.WatchResponseSchema, ts.WatchResponse, response);
        continue;
      }
      if (ended?.problem !== undefined) throw connectError({ ...ended.problem, reason: '' });
      return;
    }
  } finally {
    context.signal.removeEventListener('abort', onAbort);
    feed.close();
  }
}
