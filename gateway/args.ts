/**
 * @module The gateway's command line: flags win over environment variables, which win over defaults.
 */
import { DEFAULT_MAX_NODES, DEFAULT_POOL_SIZE, LOG_LEVELS, type LogLevel } from '../control/index.js';
import { flagOrEnv, flagOrEnvSwitch, helpText, type OptionTable, parseOptions, type ParsedOptions, UsageError } from '../lib/args.js';
import { splitHostPort } from './address.js';
import { DEFAULT_WATCH_BUFFER } from './limits.js';
import { type AllowedHosts, parseAllowedHosts } from './web-guard.js';

export interface GatewayArgs {
  listen: string;
  requestTimeoutMs: number;
  logLevel: LogLevel;
  /** Where to serve Prometheus metrics; off when undefined. */
  metricsListen: string | undefined;
  /** Where to serve the web view (page and its Connect API); off when undefined. */
  httpListen: string | undefined;
  /** Hosts the web view answers besides its own names (localhost, 127.0.0.1, [::1], the listen address); 'all': no Host check. */
  httpAllowedHosts: AllowedHosts;
  maxNodes: number;
  watchBuffer: number;
  /** Paths of the PEM certificate and key; TLS is on when both are set. */
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** Where the bearer token is read from (instead of env ARBOR_TOKEN). */
  tokenFile: string | undefined;
  restart: 'always' | 'never';
  hangRestartMs: number;
  /** A blocked event loop is found within max(4T, this). */
  blockedLoopMs: number;
  /** Keep logs and the tree here across runs; undefined: in the runtime dir, gone on exit. */
  dataDir: string | undefined;
  fsync: boolean;
  balance: 'avl' | 'off';
  poolSize: number;
  /** Other hosts: where agents join (IP:port), and the cluster's key file; off when clusterListen is undefined. */
  clusterListen: string | undefined;
  clusterSecret: string | undefined;
  /** This host's name among the cluster's hosts. */
  name: string;
  placement: 'local' | 'spread';
  /** Copies of each node: 1 (today's), or 2 (a leader and a follower; control/chains.ts). */
  replicas: 1 | 2;
}

/** The gateway's options: the parsing and `--help` both come from here (lib/args.ts). */
export const GATEWAY_OPTIONS: OptionTable = {
  listen: { type: 'string', value: 'host:port', env: 'ARBOR_LISTEN', default: '127.0.0.1:50051', help: 'serve gRPC here (port 0 picks a free port)' },
  'request-timeout-ms': { type: 'string', value: 'N', env: 'ARBOR_REQUEST_TIMEOUT_MS', default: '2000', help: "how long a command waits for a node's reply" },
  'log-level': { type: 'string', value: 'LEVEL', env: 'ARBOR_LOG_LEVEL', default: 'info', help: `${LOG_LEVELS.join('|')}; JSON to stderr` },
  'metrics-listen': { type: 'string', value: 'host:port', env: 'ARBOR_METRICS_LISTEN', help: 'serve Prometheus metrics at /metrics (off by default)' },
  'http-listen': {
    type: 'string',
    value: 'host:port',
    env: 'ARBOR_HTTP_LISTEN',
    help: 'serve the web view (a page drawing the live tree, with a console) here (off by default; port 0 picks a free port)',
  },
  'http-allowed-hosts': {
    type: 'string',
    value: 'LIST',
    env: 'ARBOR_HTTP_ALLOWED_HOSTS',
    help: [
      'more Host names the web view answers, comma-separated: name (any port), name:port, .domain (and names under it), or all',
      '(no Host check); by default only localhost, 127.0.0.1, [::1] and the --http-listen host, on its port; other hosts get 403',
    ],
  },
  'max-nodes': { type: 'string', value: 'N', env: 'ARBOR_MAX_NODES', default: `sized from this machine: ${DEFAULT_MAX_NODES}, half that with --replicas 2`, help: 'most nodes the tree may hold' },
  'pool-size': { type: 'string', value: 'N', env: 'ARBOR_POOL_SIZE', default: String(DEFAULT_POOL_SIZE), help: 'spare computing processes kept started ahead, counted against --max-nodes; 0 = none' },
  'watch-buffer': { type: 'string', value: 'N', default: String(DEFAULT_WATCH_BUFFER), help: 'events a Watch subscriber may fall behind before it is dropped' },
  'tls-cert': { type: 'string', value: 'FILE', env: 'ARBOR_TLS_CERT', help: 'serve TLS with this PEM certificate (with --tls-key)' },
  'tls-key': { type: 'string', value: 'FILE', env: 'ARBOR_TLS_KEY', help: 'the PEM key of --tls-cert' },
  'token-file': {
    type: 'string',
    value: 'FILE',
    env: 'ARBOR_TOKEN_FILE',
    help: 'require the bearer token held in FILE (mode 600 or stricter, one line) instead of ARBOR_TOKEN: it stays out of the environment',
  },
  restart: { type: 'string', value: 'always|never', env: 'ARBOR_RESTART', default: 'always', help: 'restart a computing process that exits unasked, in place, from its log' },
  'hang-restart-ms': { type: 'string', value: 'N', env: 'ARBOR_HANG_RESTART_MS', default: '30000', help: 'kill and restart a node silent by itself for N ms; 0 = never' },
  'blocked-loop-ms': {
    type: 'string',
    value: 'N',
    env: 'ARBOR_BLOCKED_LOOP_MS',
    default: '10000',
    help: 'with heartbeats on, a node whose event loop is blocked is found within max(4 x interval, N ms)',
  },
  'data-dir': { type: 'string', value: 'DIR', env: 'ARBOR_DATA_DIR', help: "keep every node's log and the tree's shape in DIR across gateway runs (default: gone on exit)" },
  fsync: { type: 'boolean', env: 'ARBOR_FSYNC', help: 'sync the disk before acknowledging stores (group commit), surviving power loss too (env value 1)' },
  balance: { type: 'string', value: 'avl|off', env: 'ARBOR_BALANCE', default: 'avl', help: 'keep the tree AVL-balanced by live rotations, or the plain search tree' },
  'cluster-listen': { type: 'string', value: 'IP:PORT', env: 'ARBOR_CLUSTER_LISTEN', help: 'let agents on other hosts join here, tcp with CURVE (off by default)' },
  'cluster-secret': {
    type: 'string',
    value: 'FILE',
    env: 'ARBOR_CLUSTER_SECRET',
    help: "the cluster's key file, created (0600) when missing; copy it to each agent host",
  },
  name: { type: 'string', value: 'NAME', default: 'local', help: "this host's name in the cluster" },
  placement: { type: 'string', value: 'local|spread', default: 'local', help: 'where a create without "on <host>" goes: here, or the joined host with the fewest nodes' },
  replicas: {
    type: 'string',
    value: '1|2',
    env: 'ARBOR_REPLICAS',
    default: '1',
    help: 'copies of each node: 2 keeps a follower process of each node on another host when one is joined and acknowledges a store once both logged it',
  },
};

export const USAGE = helpText(GATEWAY_OPTIONS, {
  usage: ['Usage: arbor-gateway [options]'],
  environment: { ARBOR_TOKEN: 'when set, ArborService calls (gRPC and the web view\'s API) must send "authorization: Bearer <token>"' },
});

export type ParsedGatewayArgs = { run: GatewayArgs } | { help: true } | { version: true } | { problem: string };

const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/;

function positive(value: string, flag: string, max: number): number | string {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) return `${flag} ${value}: expected an integer from 1 to ${max}`;
  return n;
}

/** The arguments to run with, a request for help, or the problem in words. */
export function parseGatewayArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedGatewayArgs {
  let parsed: ParsedOptions;
  try {
    parsed = parseOptions(GATEWAY_OPTIONS, argv);
  } catch (error) {
    if (error instanceof UsageError) return { problem: error.message };
    throw error;
  }
  if (parsed.help) return { help: true };
  if (parsed.version) return { version: true };
  /* Flags win over environment variables, which win over the defaults. */
  const defaults: Record<string, string | undefined> = {
    listen: '127.0.0.1:50051',
    'request-timeout-ms': '2000',
    'log-level': 'info',
    'http-allowed-hosts': '',
    'watch-buffer': String(DEFAULT_WATCH_BUFFER),
    restart: 'always',
    'hang-restart-ms': '30000',
    'blocked-loop-ms': '10000',
    balance: 'avl',
    'pool-size': String(DEFAULT_POOL_SIZE),
    name: 'local',
    placement: 'local',
    replicas: '1',
  };
  const values: Record<string, string | undefined> = {};
  for (const name of Object.keys(GATEWAY_OPTIONS)) values[name] = flagOrEnv(parsed, GATEWAY_OPTIONS, name, env) ?? defaults[name];
  const fsync = flagOrEnvSwitch(parsed, GATEWAY_OPTIONS, 'fsync', env);
  const listen = values.listen as string;
  if (!ADDRESS.test(listen)) return { problem: `--listen ${listen}: expected host:port` };
  const requestTimeoutMs = positive(values['request-timeout-ms'] as string, '--request-timeout-ms', 3_600_000);
  if (typeof requestTimeoutMs === 'string') return { problem: requestTimeoutMs };
  const logLevel = values['log-level'] as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) return { problem: `--log-level ${logLevel}: expected one of ${LOG_LEVELS.join(', ')}` };
  const metricsListen = values['metrics-listen'];
  if (metricsListen !== undefined && !ADDRESS.test(metricsListen)) return { problem: `--metrics-listen ${metricsListen}: expected host:port` };
  const httpListen = values['http-listen'];
  if (httpListen !== undefined && !ADDRESS.test(httpListen)) return { problem: `--http-listen ${httpListen}: expected host:port` };
  const allowedHosts = parseAllowedHosts(values['http-allowed-hosts'] as string);
  if ('problem' in allowedHosts) return { problem: allowedHosts.problem };
  const httpAllowedHosts = allowedHosts.allowed;
  // The default is a budget of processes on this host: with --replicas 2 each node is two of them
  // (both here when no other host is joined), so it holds half as many nodes. A number given is nodes.
  const maxNodesText = values['max-nodes'] ?? String(values.replicas === '2' ? Math.max(1, Math.floor(DEFAULT_MAX_NODES / 2)) : DEFAULT_MAX_NODES);
  const maxNodes = positive(maxNodesText, '--max-nodes', 100_000);
  if (typeof maxNodes === 'string') return { problem: maxNodes };
  const watchBuffer = positive(values['watch-buffer'] as string, '--watch-buffer', 1_000_000);
  if (typeof watchBuffer === 'string') return { problem: watchBuffer };
  const tlsCert = values['tls-cert'];
  const tlsKey = values['tls-key'];
  if ((tlsCert === undefined) !== (tlsKey === undefined)) return { problem: '--tls-cert and --tls-key go together' };
  const restart = values.restart as string;
  if (restart !== 'always' && restart !== 'never') return { problem: `--restart ${restart}: expected always or never` };
  const hangText = values['hang-restart-ms'] as string;
  const hangRestartMs = hangText === '0' ? 0 : positive(hangText, '--hang-restart-ms', 86_400_000);
  if (typeof hangRestartMs === 'string') return { problem: hangRestartMs.replace('from 1', 'from 0') };
  // Each node beats every max(4T, N) / 3 while it has work: below a second that is many wakeups.
  const blockedLoopMs = positive(values['blocked-loop-ms'] as string, '--blocked-loop-ms', 3_600_000);
  if (typeof blockedLoopMs === 'string') return { problem: blockedLoopMs };
  if (blockedLoopMs < 100) return { problem: `--blocked-loop-ms ${blockedLoopMs}: expected an integer from 100 to 3600000` };
  const poolText = values['pool-size'] as string;
  const poolSize = poolText === '0' ? 0 : positive(poolText, '--pool-size', 64);
  if (typeof poolSize === 'string') return { problem: poolSize.replace('from 1', 'from 0') };
  const dataDir = values['data-dir'];
  const balance = values.balance as string;
  if (balance !== 'avl' && balance !== 'off') return { problem: `--balance ${balance}: expected avl or off` };
  const clusterListen = values['cluster-listen'];
  const clusterSecret = values['cluster-secret'];
  if (clusterListen !== undefined) {
    // Nodes here bind tcp on this address too: it must be one address, never all interfaces.
    const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(clusterListen);
    if (m === null || Number(m[2]) > 65535) return { problem: `--cluster-listen ${clusterListen}: expected IPv4:port` };
    if (m[1] === '0.0.0.0') return { problem: '--cluster-listen: name one address of this host, not 0.0.0.0 (nodes bind tcp on it too)' };
    if (clusterSecret === undefined) return { problem: '--cluster-listen needs --cluster-secret FILE (created when missing)' };
  }
  const name = values.name as string;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) return { problem: `--name ${name}: expected letters, digits, . _ - (at most 63)` };
  const placement = values.placement as string;
  if (placement !== 'local' && placement !== 'spread') return { problem: `--placement ${placement}: expected local or spread` };
  const replicas = values.replicas === '1' ? 1 : values.replicas === '2' ? 2 : undefined;
  if (replicas === undefined) return { problem: `--replicas ${values.replicas}: expected 1 or 2` };
  return {
    run: {
      listen,
      requestTimeoutMs,
      logLevel,
      metricsListen,
      httpListen,
      httpAllowedHosts,
      maxNodes,
      watchBuffer,
      tlsCert,
      tlsKey,
      tokenFile: values['token-file'],
      restart,
      hangRestartMs,
      blockedLoopMs,
      dataDir,
      fsync,
      balance,
      poolSize,
      clusterListen,
      clusterSecret,
      name,
      placement,
      replicas,
    },
  };
}

/** True for addresses only this machine can reach. */
export function isLoopback(address: string): boolean {
  const host = splitHostPort(address).bare;
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
