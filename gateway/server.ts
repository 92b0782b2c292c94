/**
 * @module The gRPC server of the gateway: the ArborService bound to one control, plus the
 * standard health service and server reflection.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ArborServiceService, type ArborServiceServer } from '../proto/gen/arbor/v1/arbor.js';
import type { Control, Logger } from '../control/index.js';
import { bearerTokenInterceptor } from './auth.js';
import { type CallMetrics, NO_METRICS } from './call-metrics.js';
import * as commands from './commands.js';
import type { GatewayContext } from './context.js';
import { EventBacklog } from './event-backlog.js';
import { Health } from './health.js';
import { DEFAULT_WATCH_BUFFER, MAX_MESSAGE_BYTES } from './limits.js';
import { addReflection } from './reflection.js';
import { session } from './session.js';
import { StreamRegistry } from './stream-registry.js';
import { unary } from './unary.js';
import { watch } from './watch.js';
import { watchKeys } from './watch-keys.js';

const SERVICE_NAME = 'arbor.v1.ArborService';

export function arborService(ctx: GatewayContext): ArborServiceServer {
  const { control } = ctx;
  return {
    create: unary(ctx, 'Create', (req, call) => commands.create(control, req, call)),
    exec: unary(ctx, 'Exec', (req, call) => commands.exec(control, req, call)),
    ping: unary(ctx, 'Ping', (req, call) => commands.ping(control, req, call)),
    heartbeat: unary(ctx, 'Heartbeat', (req) => commands.heartbeat(control, req)),
    topology: unary(ctx, 'Topology', () => commands.topology(control)),
    remove: unary(ctx, 'Remove', (req) => commands.remove(control, req)),
    keys: unary(ctx, 'Keys', (req, call) => commands.keys(control, req, call)),
    delete: unary(ctx, 'Delete', (req, call) => commands.del(control, req, call)),
    watchKeys: (call) => watchKeys(ctx, call),
    session: (call) => session(ctx, call),
    watch: (call) => watch(ctx, call),
  };
}

export interface Served {
  server: Server;
  port: number;
  ctx: GatewayContext;
  health: Health;
}

/**
 * Starts serving on `address` ("host:port"; port 0 picks a free one) and resolves with the
 * bound port. Health says SERVING from then on.
 */
export interface ListenOptions {
  watchBuffer?: number;
  /** PEM key and certificate: serve TLS instead of plaintext. */
  tls?: { key: Buffer; cert: Buffer };
  /** Require `authorization: Bearer <token>` on ArborService calls. */
  token?: string;
  /** Where handlers count their calls (default: nowhere; see call-metrics.ts). */
  metrics?: CallMetrics;
}

export async function listen(control: Control, address: string, log: Logger, options: ListenOptions = {}): Promise<Served> {
  const server = new Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    // Channelz bookkeeping per call and connection is not used here; it only costs.
    'grpc.enable_channelz': 0,
    interceptors: options.token === undefined ? [] : [bearerTokenInterceptor(options.token)],
  });
  const ctx: GatewayContext = {
    control,
    log,
    metrics: options.metrics ?? NO_METRICS,
    streams: new StreamRegistry(),
    backlog: new EventBacklog(control),
    watchBuffer: options.watchBuffer ?? DEFAULT_WATCH_BUFFER,
    load: { unary: 0, watchers: 0 },
  };
  server.addService(ArborServiceService, arborService(ctx));
  const health = new Health(server, { '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
  addReflection(server);
  const port = await new Promise<number>((resolve, reject) => {
    const credentials = options.tls
      ? ServerCredentials.createSsl(null, [{ private_key: options.tls.key, cert_chain: options.tls.cert }], false)
      : ServerCredentials.createInsecure();
    server.bindAsync(address, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  health.setStatus('', 'SERVING');
  health.setStatus(SERVICE_NAME, 'SERVING');
  return { server, port, ctx, health };
}

/**
 * Health turns NOT_SERVING, new calls are refused, Watch streams end, sessions and calls in
 * flight get up to `graceMs` to finish, then the rest is cut.
 */
export function shutdown({ server, ctx, health }: Served, graceMs: number): Promise<void> {
  health.setStatus('', 'NOT_SERVING');
  health.setStatus(SERVICE_NAME, 'NOT_SERVING');
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      ctx.log.warn({ graceMs }, 'calls still open after the grace period: cutting them');
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
    ctx.streams.closeAll();
    ctx.backlog.close();
  });
}
