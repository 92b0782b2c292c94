/**
 * @module arbor-gateway: the control core behind a gRPC server.
 *
 * Its first stdout line is `arbor-gateway listening on <host>:<port>` (scripts and tests wait
 * for it); with --http-listen a later one is `arbor-gateway web view on http://<host>:<port>/`;
 * logs go to stderr. SIGTERM or SIGINT: stop accepting calls, let calls in flight
 * finish (bounded), stop every computing process, exit 0.
 */
import { readFileSync } from 'node:fs';
import { type ClusterKeys, ClusterSecretError, Control, createLogger, DataDirError, loadClusterSecret } from '../control/index.js';
import { splitHostPort } from './address.js';
import { tokenFrom, TokenSourceError } from './auth.js';
import { EXIT_USAGE, usageErrorLine } from '../lib/args.js';
import { isLoopback, parseGatewayArgs, USAGE } from './args.js';
import { listen, type Served, shutdown } from './server.js';
import { serveWeb, type WebServer } from './web-server.js';
import { versionLine } from '../lib/version.js';

const DRAIN_MS = 5000;

// One function, not top-level awaits: the bundle runs as a CommonJS script through V8's code
// cache (lib/code-cache.ts), and a script has no top-level await. A failure it does not handle
// is an unhandled rejection, which ends the process as a failed top-level await did.
async function main(): Promise<void> {
  /* --version wins over everything else, as --help does in the console. */
  if (process.argv.slice(2).includes('--version')) {
    process.stdout.write(`${versionLine('arbor-gateway')}\n`);
    process.exit(0);
  }
  const parsed = parseGatewayArgs(process.argv.slice(2), process.env);
  if ('version' in parsed) {
    process.stdout.write(`${versionLine('arbor-gateway')}\n`);
    process.exit(0);
  }
  if ('help' in parsed) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if ('problem' in parsed) {
    process.stderr.write(`${usageErrorLine('arbor-gateway', parsed.problem)}\n`);
    process.exit(EXIT_USAGE);
  }
  const args = parsed.run;
  const log = createLogger(args.logLevel);

  let tls: { key: Buffer; cert: Buffer } | undefined;
  try {
    if (args.tlsCert !== undefined && args.tlsKey !== undefined) tls = { cert: readFileSync(args.tlsCert), key: readFileSync(args.tlsKey) };
  } catch (error) {
    process.stderr.write(`arbor-gateway: cannot read the TLS certificate or key: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  let token: string | undefined;
  try {
    token = tokenFrom(process.env, args.tokenFile);
  } catch (error) {
    if (!(error instanceof TokenSourceError)) throw error;
    process.stderr.write(`arbor-gateway: ${error.message}\n`);
    process.exit(2);
  }

  let keys: ClusterKeys | undefined;
  try {
    // Created when missing (0600); the same file goes to every agent host. Its content is never logged.
    if (args.clusterListen !== undefined && args.clusterSecret !== undefined) keys = loadClusterSecret(args.clusterSecret, true, (message) => log.warn(message));
  } catch (error) {
    if (!(error instanceof ClusterSecretError)) throw error;
    process.stderr.write(`arbor-gateway: --cluster-secret: ${error.message}\n`);
    process.exit(2);
  }

  let control: Control;
  try {
    // With a data dir that holds a tree, this brings every node back before we listen.
    control = await Control.start({
      requestTimeoutMs: args.requestTimeoutMs,
      maxNodes: args.maxNodes,
      logger: log.child({ component: 'control' }),
      restart: args.restart,
      hangRestartMs: args.hangRestartMs,
      liveness: { blockedLoopMs: args.blockedLoopMs },
      dataDir: args.dataDir,
      fsync: args.fsync,
      balance: args.balance,
      poolSize: args.poolSize,
      hostName: args.name,
      placement: args.placement,
      ...(args.replicas === 2 && { replicas: 2 as const }),
      ...(args.clusterListen !== undefined && keys !== undefined && { cluster: { listen: args.clusterListen, keys } }),
    });
  } catch (error) {
    if (error instanceof DataDirError) {
      process.stderr.write(`arbor-gateway: --data-dir: ${error.message}\n`);
      process.exit(2);
    }
    // The one other start-up failure with a cause the user can fix: the cluster address.
    if (args.clusterListen === undefined) throw error;
    process.stderr.write(`arbor-gateway: cannot listen for agents on ${args.clusterListen}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  // The first spare starts before the gRPC server is set up: it loads on another core while the
  // gateway gets to its listening line, so a script's first create finds it ready, where a spare
  // started after that line made the first create wait for a whole process start. One fork now,
  // while the gateway is still small, is cheap (control.ts, startPool).
  control.startPool();
  // prom-client is loaded only when metrics are served (see call-metrics.ts).
  const metricsModule = args.metricsListen === undefined ? undefined : await import('./metrics.js');
  const metrics = metricsModule === undefined ? undefined : new metricsModule.Metrics(control);
  let served: Served;
  try {
    served = await listen(control, args.listen, log, { watchBuffer: args.watchBuffer, tls, token, metrics });
  } catch (error) {
    process.stderr.write(`arbor-gateway: cannot listen on ${args.listen}: ${error instanceof Error ? error.message : String(error)}\n`);
    await control.close();
    process.exit(2);
  }
  if (!isLoopback(args.listen) && tls === undefined) {
    log.warn({ listen: args.listen }, 'listening beyond this machine without TLS: anyone who can reach it can drive the tree');
  }
  // The web port is bound before the first stdout line, so a port in use fails the start (exit 2)
  // before anything that waits for "listening" believes the gateway is up.
  let webServer: WebServer | undefined;
  if (args.httpListen !== undefined) {
    try {
      webServer = await serveWeb(served.ctx, args.httpListen, { token, tls, allowedHosts: args.httpAllowedHosts });
    } catch (error) {
      process.stderr.write(`arbor-gateway: cannot listen on ${args.httpListen} (--http-listen): ${error instanceof Error ? error.message : String(error)}\n`);
      await shutdown(served, DRAIN_MS);
      await control.close();
      process.exit(2);
    }
    if (!isLoopback(args.httpListen) && tls === undefined) {
      log.warn({ httpListen: args.httpListen }, 'web view served beyond this machine without TLS: anyone who can reach it can drive the tree');
    }
  }

  // The stop is in place before the listening line: whoever waits for that line may send SIGTERM
  // at once, and without a handler Node's default would kill the gateway without its drain.
  let metricsServer: Awaited<ReturnType<NonNullable<typeof metricsModule>['serveMetrics']>> | undefined = undefined;
  let stopping = false;
  async function stop(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // The web port takes no new connections either; its calls in flight drain with the gRPC ones.
    webServer?.server.close();
    await shutdown(served, DRAIN_MS);
    metricsServer?.server.close();
    webServer?.close();
    await control.close();
    log.info('stopped');
    log.flush();
    process.exit(0);
  }
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const { host } = splitHostPort(args.listen);
  process.stdout.write(`arbor-gateway listening on ${host}:${served.port}\n`);
  // Other hosts: a second line names where agents join (the real port when 0 was asked for).
  if (control.clusterAddress !== undefined) process.stdout.write(`arbor-gateway cluster on ${control.clusterAddress}\n`);
  log.info({ address: `${host}:${served.port}` }, 'serving');

  metricsServer =
    metricsModule === undefined || metrics === undefined || args.metricsListen === undefined
      ? undefined
      : await metricsModule.serveMetrics(metrics, args.metricsListen);
  if (stopping) metricsServer?.server.close();
  if (metricsServer !== undefined) {
    process.stdout.write(`arbor-gateway metrics on ${splitHostPort(args.metricsListen as string).host}:${metricsServer.port}\n`);
  }
  if (webServer !== undefined) {
    const scheme = tls === undefined ? 'http' : 'https';
    process.stdout.write(`arbor-gateway web view on ${scheme}://${splitHostPort(args.httpListen as string).host}:${webServer.port}/\n`);
  }

}

void main();
