/**
 * @module `npm start`: a gateway plus a console attached to it, stopped together.
 *
 * Starts the gateway (`dist/bundle/gateway.js --listen <addr>`) (flag `--listen`, env `ARBOR_LISTEN`, default
 * 127.0.0.1:50051), waits until it listens, runs the console (`runCli`) against it, and when the
 * console ends (quit or end of input, after the replies in flight) stops the gateway, which stops
 * every computing process. Exits with the console's exit code; 2 if the gateway cannot start or
 * stops unexpectedly (the console then quits too); 128 + n after forwarding signal n (SIGINT,
 * SIGTERM) to the gateway. The gateway logs warnings and worse (unless `ARBOR_LOG_LEVEL` says
 * more) to a file in the runtime directory (gateway-log.ts), `--log-file FILE` to another,
 * `--log-file -` to stderr as before; its warnings and errors are also told as console lines,
 * above the prompt, never as raw log lines over it.
 *
 * The gateway's web view is on (`--http-listen`, env `ARBOR_HTTP_LISTEN`, default 127.0.0.1 on a
 * free port). On a terminal one start line says where everything is (`startLine`); with stdin
 * piped nothing extra is printed, so a script's output stays byte-exact.
 */
import { constants } from 'node:os';
import { quote } from '../proto/limits.js';
import { helpText, type OptionSpec, type OptionTable } from '../lib/args.js';
import { CLI_OPTIONS, parseArgs, UsageError } from './args.js';
import { EXIT_USAGE, processIo, type CliIo } from './console-io.js';
import { exitWith, isEntryPoint } from './entry.js';
import { defaultLogFile, GatewayLog } from './gateway-log.js';
import { describeExit, GatewayProcess, GatewayStartError, type GatewayExit } from './gateway-process.js';
import { packageVersion } from './version.js';

/** Where the gateway listens unless `--listen` or `ARBOR_LISTEN` says otherwise. */
export const DEFAULT_LISTEN = '127.0.0.1:50051';
/** Where the gateway serves the web view unless env `ARBOR_HTTP_LISTEN` says otherwise: loopback, a free port. */
export const DEFAULT_HTTP_LISTEN = '127.0.0.1:0';
/** How long the start line waits for the web view's URL (printed right after the listening line). */
export const WEB_VIEW_WAIT_MS = 3000;
/** How long the gateway may take to report that it listens. */
export const READY_TIMEOUT_MS = 15_000;
/** How long the gateway may take to stop after SIGTERM before it is killed. */
export const STOP_GRACE_MS = 5000;

/** The gateway's log level under `npm start`, unless env `ARBOR_LOG_LEVEL` sets one. */
export const GATEWAY_LOG_LEVEL = 'warn';

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** `npm start`'s own options; the console's (but `--target`) follow them in its `--help`. */
export const START_OPTIONS: OptionTable = {
  listen: { type: 'string', value: 'host:port', env: 'ARBOR_LISTEN', default: DEFAULT_LISTEN, help: 'where the gateway listens (port 0 picks a free one)' },
  'log-file': {
    type: 'string',
    value: 'FILE|-',
    help: "where the gateway's log goes (default: a file in the runtime directory, named in the start line; - for stderr)",
  },
  format: CLI_OPTIONS['format'] as OptionSpec,
  ordered: CLI_OPTIONS['ordered'] as OptionSpec,
  json: CLI_OPTIONS['json'] as OptionSpec,
};

/** The `--help` text of `npm start`. */
export const START_USAGE_TEXT = helpText(START_OPTIONS, {
  usage: ['Usage: npm start -- [--listen host:port] [--log-file FILE|-] [console options]'],
  about: [
    'Starts a gateway on --listen and attaches the console to it. When the console ends (quit,',
    'Ctrl-D, or the end of piped input, once the replies in flight are in), the gateway and every',
    'computing process stop. The web view (a page drawing the live tree, with a console) is on env',
    `ARBOR_HTTP_LISTEN, default ${DEFAULT_HTTP_LISTEN} (a free port); on a terminal the start line gives its URL.`,
    "The gateway's log goes to a file in the runtime directory ($XDG_RUNTIME_DIR/arbor, else",
    '<tmp>/arbor-<user>), or to --log-file; its warnings and errors are also shown as console lines.',
    'The console options are those of arbor (--target is set to the gateway started here).',
  ],
  environment: { ARBOR_HTTP_LISTEN: `where the gateway serves the web view (default ${DEFAULT_HTTP_LISTEN})` },
});

/** The one line `npm start` prints on a terminal before the prompt: version, gateway, web view, help. */
export function startLine(address: string, webView: string | undefined, logFile?: string): string {
  const web = webView === undefined ? '' : ` · web view ${webView}`;
  const log = logFile === undefined ? '' : ` · log ${logFile}`;
  return `arbor ${packageVersion()} · gateway ${address}${web}${log} · type help for the commands`;
}

/** What `npm start`'s command line asks for. */
export type StartRequest =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; listen: string; consoleArgs: string[]; /** A path, `-` for stderr, or undefined for the default file. */ logFile?: string };

/**
 * Reads `npm start`'s command line: `--listen` is its own; the rest are console options,
 * checked here so a typo fails before a gateway is started.
 *
 * @throws UsageError for a bad `--listen`, a `--target`, or a bad console option
 */
export function parseStartArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): StartRequest {
  let listen = env['ARBOR_LISTEN']?.trim() || DEFAULT_LISTEN;
  const consoleArgs: string[] = [];
  let logFile: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--log-file' || arg.startsWith('--log-file=')) {
      const value = arg === '--log-file' ? argv[++i] : arg.slice('--log-file='.length);
      if (value === undefined || value === '' || value.startsWith('--')) throw new UsageError('option --log-file needs a value');
      logFile = value;
    } else if (arg === '--listen' || arg.startsWith('--listen=')) {
      const value = arg === '--listen' ? argv[++i] : arg.slice('--listen='.length);
      if (value === undefined || value === '' || value.startsWith('--')) throw new UsageError('option --listen needs a value');
      listen = value;
    } else if (arg === '--target' || arg === '-t' || arg.startsWith('--target=')) {
      throw new UsageError("--target does not apply: npm start runs its own gateway (use --listen, or run 'arbor --target')");
    } else {
      consoleArgs.push(arg);
    }
  }
  if (!/^\S+:\d+$/.test(listen)) throw new UsageError(`invalid --listen ${quote(listen)}: expected host:port`);
  const request = parseArgs(consoleArgs, {});
  if (request.kind === 'dump' || request.kind === 'restore') throw new UsageError(`${request.kind} does not apply: npm start runs its own gateway (run 'arbor ${request.kind} --target')`);
  if (request.kind !== 'run') return request;
  return { kind: 'run', listen, consoleArgs, ...(logFile !== undefined && { logFile }) };
}

/**
 * Runs `npm start` with `argv` and resolves with the exit code. Never calls `process.exit`, but
 * installs SIGINT/SIGTERM handlers on the process while the gateway runs (to forward them).
 */
export async function runStart(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let request: StartRequest;
  try {
    request = parseStartArgs(argv, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`arbor: ${error.message} (see npm start -- --help)\n`);
    return EXIT_USAGE;
  }
  if (request.kind === 'help') {
    io.stdout.write(`${START_USAGE_TEXT}\n`);
    return 0;
  }
  if (request.kind === 'version') return (await import('./cli.js')).runCli(['--version'], io);

  /* The console (gRPC and all) loads while the gateway boots: spawning the gateway first is
     what the first reply of a script waits for. */
  const cli = import('./cli.js');
  let logPath: string | undefined;
  let log: GatewayLog | undefined;
  if (request.logFile !== '-') {
    try {
      logPath = request.logFile ?? defaultLogFile(io.env);
      log = await GatewayLog.toFile(logPath);
    } catch (error) {
      io.stderr.write(`arbor: cannot open the gateway's log file${logPath === undefined ? '' : ` ${quote(logPath)}`}: ${(error as Error).message} (--log-file - logs to stderr)\n`);
      return EXIT_USAGE;
    }
  }
  let gateway: GatewayProcess;
  try {
    gateway = await GatewayProcess.start(request.listen, {
      readyTimeoutMs: READY_TIMEOUT_MS,
      log: io.stderr,
      ...(log !== undefined && { stderrLine: (line: string) => log.line(line) }),
      extraArgs: ['--http-listen', io.env['ARBOR_HTTP_LISTEN']?.trim() || DEFAULT_HTTP_LISTEN],
      /* The gateway logs to the terminal the console's prompt is on: only warnings and worse,
         unless the user asked for more. */
      env: { ...process.env, ARBOR_LOG_LEVEL: io.env['ARBOR_LOG_LEVEL'] ?? GATEWAY_LOG_LEVEL },
    });
  } catch (error) {
    if (!(error instanceof GatewayStartError)) throw error;
    for (const notice of log?.takeHeld() ?? []) io.stderr.write(`${notice}\n`);
    io.stderr.write(`arbor: cannot start the gateway on ${request.listen}: ${error.message}\n`);
    await log?.close();
    return EXIT_USAGE;
  }

  if (io.stdin.isTTY === true) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), WEB_VIEW_WAIT_MS)));
    const webView = await Promise.race([gateway.webView, late]);
    clearTimeout(timer);
    io.stdout.write(`${startLine(gateway.address, webView, logPath)}\n`);
  }

  let received: NodeJS.Signals | undefined;
  let stopping = false;
  let crashed: GatewayExit | undefined;
  const quit = new AbortController();
  /* The console quits too: its open session would otherwise hold the gateway's drain until the
     drain's deadline. */
  const forward = (signal: NodeJS.Signals): void => {
    received ??= signal;
    gateway.signal(signal);
    quit.abort();
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  /* The console's own gateway is gone for good: an interactive console would try to reconnect
     forever, so it quits (after the replies in flight, which fail at once), then says why. */
  void gateway.exited.then((info) => {
    if (!stopping && received === undefined) {
      crashed = info;
      quit.abort();
    }
  });
  let code: number;
  try {
    code = await (await cli).runCli(['--target', gateway.address, ...request.consoleArgs], io, { quit: quit.signal, ...(log !== undefined && { notices: log }) });
  } finally {
    stopping = true;
    const exit = await gateway.stop(STOP_GRACE_MS);
    for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    for (const notice of log?.takeHeld() ?? []) io.stderr.write(`${notice}\n`);
    await log?.close();
    if (received === undefined && exit.code !== 0 && exit.code !== null) {
      io.stderr.write(`arbor: the gateway did not stop cleanly (${describeExit(exit)})\n`);
    }
  }
  if (received !== undefined) return 128 + constants.signals[received];
  if (crashed === undefined) return code;
  io.stderr.write(`arbor: the gateway stopped unexpectedly (${describeExit(crashed)})\n`);
  return EXIT_USAGE;
}

/** Runs `npm start` on the process's arguments and exits with its code. */
export function main(argv: readonly string[] = process.argv.slice(2)): Promise<never> {
  return exitWith('arbor', () => runStart(argv));
}

if (isEntryPoint(import.meta.url)) void main();
