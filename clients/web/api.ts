/**
 * @module The page's client of the public API: Connect (connect-web, over fetch) to the
 * gateway that served the page, with the bearer token when one is set.
 *
 * The page's code works with the ts-proto messages the CLI's modules are written against
 * (`Outcome`, `TopologyResponse`, `NodeEvent`); Connect's client speaks protobuf-es. Each message
 * crosses through its binary encoding (`proto/es-bridge.ts`), so nothing here maps fields by hand.
 */
import { type Client, Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import * as ts from '../../proto/gen/arbor/v1/arbor.js';
import * as es from '../../proto/gen-es/arbor/v1/arbor_pb.js';
import { fromEs, toEs, type TsProtoCodec } from '../../proto/es-bridge.js';
import { MAX_KEYS_LIMIT } from '../../proto/limits.js';
import { errorOutcome, type Outcome, type RemoteCommand, toCommandBody } from '../command.js';

/** How long one command may take, as the CLI's deadline (the gateway never waits beyond it). */
const CALL_TIMEOUT_MS = 10_000;

export class Api {
  private readonly client: Client<typeof es.ArborService>;

  /** `token()` is read on every call, so a token typed later applies at once. */
  constructor(baseUrl: string, token: () => string | undefined) {
    const bearer: Interceptor = (next) => (req) => {
      const value = token();
      if (value !== undefined) req.header.set('authorization', `Bearer ${value}`);
      return next(req);
    };
    this.client = createClient(es.ArborService, createConnectTransport({ baseUrl, interceptors: [bearer] }));
  }

  /** Runs one of the console's remote commands; failures come back as the `error` outcome, as on a Session. */
  async run(command: RemoteCommand): Promise<Outcome> {
    const body = toCommandBody(command);
    try {
      switch (body.$case) {
        case 'create':
          return { $case: 'create', value: await this.unary('create', [es.CreateRequestSchema, ts.CreateRequest], [es.CreateResponseSchema, ts.CreateResponse], body.value) };
        case 'exec':
          return { $case: 'exec', value: await this.unary('exec', [es.ExecRequestSchema, ts.ExecRequest], [es.ExecResponseSchema, ts.ExecResponse], body.value) };
        case 'ping':
          return { $case: 'ping', value: await this.unary('ping', [es.PingRequestSchema, ts.PingRequest], [es.PingResponseSchema, ts.PingResponse], body.value) };
        case 'heartbeat':
          return { $case: 'heartbeat', value: await this.unary('heartbeat', [es.HeartbeatRequestSchema, ts.HeartbeatRequest], [es.HeartbeatResponseSchema, ts.HeartbeatResponse], body.value) };
        case 'remove':
          return { $case: 'remove', value: await this.unary('remove', [es.RemoveRequestSchema, ts.RemoveRequest], [es.RemoveResponseSchema, ts.RemoveResponse], body.value) };
        // Every page, as the CLI's console lists them.
        case 'keys':
          return { $case: 'keys', value: await this.allKeys(body.value) };
        case 'delete':
          return { $case: 'delete', value: await this.unary('delete', [es.DeleteRequestSchema, ts.DeleteRequest], [es.DeleteResponseSchema, ts.DeleteResponse], body.value) };
      }
    } catch (error) {
      const failure = ConnectError.from(error);
      const outcome = errorOutcome(failure.code as number, failure.rawMessage);
      outcome.value.reason = failure.metadata.get('arbor-reason') ?? '';
      return outcome;
    }
  }

  /** One page of a node's names and values (throws the call's error). */
  keys(request: ts.KeysRequest): Promise<ts.KeysResponse> {
    return this.unary('keys', [es.KeysRequestSchema, ts.KeysRequest], [es.KeysResponseSchema, ts.KeysResponse], request);
  }

  /** Every name of `request`'s node (that starts with its prefix), page after page, as one answer. */
  private async allKeys(request: ts.KeysRequest): Promise<ts.KeysResponse> {
    const entries: ts.KeyEntry[] = [];
    let startAfter = '';
    for (;;) {
      const page = await this.keys({ ...request, limit: MAX_KEYS_LIMIT, startAfter });
      entries.push(...page.entries);
      const last = page.entries.at(-1);
      if (!page.more || last === undefined) return { entries, more: false, revision: page.revision };
      startAfter = last.name;
    }
  }

  /** The whole tree now. */
  topology(): Promise<ts.TopologyResponse> {
    return this.unary('topology', [es.TopologyRequestSchema, ts.TopologyRequest], [es.TopologyResponseSchema, ts.TopologyResponse], {});
  }

  /**
   * The last `backlog` events the gateway kept (oldest first), then every availability event from
   * now on, until `signal` aborts or the stream ends (then it throws or returns).
   */
  async *watch(signal: AbortSignal, backlog = 0): AsyncGenerator<ts.NodeEvent> {
    for await (const response of this.client.watch({ backlog }, { signal })) {
      const { event } = fromEs(es.WatchResponseSchema, ts.WatchResponse, response);
      if (event !== undefined) yield event;
    }
  }

  private async unary<M extends 'create' | 'exec' | 'ping' | 'heartbeat' | 'topology' | 'remove' | 'keys' | 'delete', ReqDesc extends DescMessage, Req, ResDesc extends DescMessage, Res>(
    method: M,
    request: [ReqDesc, TsProtoCodec<Req>],
    response: [ResDesc, TsProtoCodec<Res>],
    message: Req,
  ): Promise<Res> {
    const call = this.client[method] as unknown as (req: MessageShape<ReqDesc>, options: { timeoutMs: number }) => Promise<MessageShape<ResDesc>>;
    const answer = await call(toEs(request[0], request[1], message), { timeoutMs: CALL_TIMEOUT_MS });
    return fromEs(response[0], response[1], answer);
  }
}

/** Whether a failure (a thrown error, or a command's error outcome) is the gateway refusing the token. */
export function isUnauthenticated(failure: unknown): boolean {
  if (typeof failure === 'object' && failure !== null && '$case' in failure) {
    const outcome = failure as Outcome;
    return outcome.$case === 'error' && outcome.value.code === (Code.Unauthenticated as number);
  }
  return ConnectError.from(failure).code === Code.Unauthenticated;
}
