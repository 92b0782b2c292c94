/**
 * @module The gateway's command line: flags win over environment variables, which win over defaults.
 */
import { LOG_LEVELS, type LogLevel } from '../control/index.js';

export interface GatewayArgs {
  listen: string;
  requestTimeoutMs: number;
  logLevel: LogLevel;
  /** Where to serve Prometheus metrics; off when undefined. */
  metricsListen: string | undefined;
}

export const USAGE = `usage: arbor-gateway [options]
  --listen host:port         serve gRPC here (env ARBOR_LISTEN, default 127.0.0.1:50051; port 0 picks a free port)
  --request-timeout-ms N     how long a command waits for a node's reply (env ARBOR_REQUEST_TIMEOUT_MS, default 2000)
  --log-level LEVEL          ${LOG_LEVELS.join('|')} (env ARBOR_LOG_LEVEL, default info); JSON to stderr
  --metrics-listen host:port serve Prometheus metrics at /metrics (env ARBOR_METRICS_LISTEN; off by default)
  --help                     show this help`;

export type ParsedGatewayArgs = { run: GatewayArgs } | { help: true } | { problem: string };

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/;

/** The arguments to run with, a request for help, or the problem in words. */
export function parseGatewayArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedGatewayArgs {
  const values: Record<string, string | undefined> = {
    listen: env.ARBOR_LISTEN ?? '127.0.0.1:50051',
    'request-timeout-ms': env.ARBOR_REQUEST_TIMEOUT_MS ?? '2000',
    'log-level': env.ARBOR_LOG_LEVEL ?? 'info',
    'metrics-listen': env.ARBOR_METRICS_LISTEN,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return { help: true };
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const name = flag.replace(/^--/, '');
    if (!flag.startsWith('--') || !(name in values)) return { problem: `unknown option ${flag}` };
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) return { problem: `${flag} needs a value` };
    values[name] = value;
  }
  const listen = values.listen as string;
  if (!ADDRESS.test(listen)) return { problem: `--listen ${listen}: expected host:port` };
  const timeout = values['request-timeout-ms'] as string;
  const requestTimeoutMs = Number(timeout);
  if (!/^\d+$/.test(timeout) || requestTimeoutMs < 1 || requestTimeoutMs > 3_600_000) {
    return { problem: `--request-timeout-ms ${timeout}: expected milliseconds from 1 to 3600000` };
  }
  const logLevel = values['log-level'] as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) return { problem: `--log-level ${logLevel}: expected one of ${LOG_LEVELS.join(', ')}` };
  const metricsListen = values['metrics-listen'];
  if (metricsListen !== undefined && !ADDRESS.test(metricsListen)) return { problem: `--metrics-listen ${metricsListen}: expected host:port` };
  return { run: { listen, requestTimeoutMs, logLevel, metricsListen } };
}

/** True for addresses only this machine can reach. */
export function isLoopback(address: string): boolean {
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
