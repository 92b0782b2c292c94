/**
 * @module The `arbor` command line: flags and environment → options, or a usage error. Pure.
 *
 * One table (`CLI_OPTIONS`) gives both the parsing and the `--help` text, through lib/args.ts,
 * the mechanism every arbor program uses.
 */
import { flagOrEnv, helpText, type OptionTable, parseOptions, UsageError } from '../lib/args.js';
import { quote } from '../proto/limits.js';
import { OUTPUT_FORMATS, type OutputFormat } from './output-format.js';

export { UsageError } from '../lib/args.js';

/** The default gateway address (the gateway's default `--listen`). */
export const DEFAULT_TARGET = '127.0.0.1:50051';

/** What the command line asks for. */
export type CliRequest =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'run'; options: CliOptions }
  | { kind: 'dump'; options: CliOptions }
  | { kind: 'restore'; options: CliOptions };

/** How the console runs. */
export interface CliOptions {
  /** The gateway's `host:port`. */
  target: string;
  format: OutputFormat;
  /** Print replies in input order (still pipelining). */
  ordered: boolean;
  /** One JSON object per reply instead of text lines. */
  json: boolean;
  /** A PEM file of the CA that signed the gateway's certificate: connect with TLS. */
  tlsCa?: string;
  /** Sent as `authorization: Bearer <token>` on every call (env `ARBOR_TOKEN` only, never a flag,
      so it does not show in `ps`). */
  token?: string;
  /** One-shot: the one command line to run (the arguments after the options), instead of reading stdin. */
  command?: string;
}

/** The console's options (those of the console proper; `--target` and `--tls-ca` are dump's and restore's too). */
export const CLI_OPTIONS: OptionTable = {
  target: { type: 'string', short: 't', value: 'ADDR', env: 'ARBOR_TARGET', default: DEFAULT_TARGET, help: "the gateway's host:port" },
  format: { type: 'string', value: 'seed|mai', help: 'reply lines as in the lab report (seed, the default) or the course (mai)' },
  ordered: { type: 'boolean', help: 'print replies in input order instead of as they arrive' },
  json: { type: 'boolean', help: 'print one JSON object per reply (JSON Lines)' },
  'tls-ca': { type: 'string', value: 'FILE', env: 'ARBOR_TLS_CA', help: 'connect with TLS, trusting the CA certificate in FILE (PEM)' },
};

/** The `--help` text of `arbor`. */
export const USAGE_TEXT = helpText(CLI_OPTIONS, {
  usage: [
    'Usage: arbor [-t|--target host:port] [--format seed|mai] [--ordered] [--json] [--tls-ca FILE] [<command> [args...]]',
    '       arbor dump [-t|--target host:port] [--tls-ca FILE] > data.jsonl',
    '       arbor restore [-t|--target host:port] [--tls-ca FILE] < data.jsonl',
  ],
  about: [
    'The console of an arbor gateway: reads commands (create, exec, ping, heartbeat, remove, keys,',
    'del, watch, tree, status, help, quit) from stdin, interactively on a terminal, else as a',
    'script sent all at once, and prints one line per reply. Type "help" at the prompt for the',
    'commands.',
    'With a command after the options (arbor -t HOST:PORT exec 50 a 42), it runs that one command,',
    'prints its reply as a script would, and exits; stdin is not read.',
    '',
    'dump writes every node\'s names and values as JSON lines ({"id":8,"name":"X","value":"16"};',
    '{"id":8} for a node without names), node by node, each node as it was at one moment;',
    'restore creates the nodes a gateway lacks and stores every value of such a file.',
  ],
  environment: {
    ARBOR_TOKEN: 'sent as "authorization: Bearer <token>" (for a gateway started with one)',
    NO_COLOR: 'when set (to anything), no colours; there are none off a terminal anyway',
    XDG_STATE_HOME: 'the prompt history is kept in $XDG_STATE_HOME/arbor/history (default ~/.local/state/arbor/history, last 1000 lines)',
  },
  footer: [
    'Exit status: 0 when every command succeeded, 1 when any failed, 2 for a usage error or an',
    'unreachable gateway (or one lost while running a script).',
  ],
});

/**
 * Reads the command line: options, then (one-shot) a command and its arguments. `--help` and
 * `--version` among the options win over everything else, so they work even next to a mistake;
 * after the command word everything belongs to the command (`tree --json`, `exec 1 a -5`).
 *
 * @throws UsageError for an unknown option or a missing or bad value
 */
export function parseArgs(args: readonly string[], env: Readonly<Record<string, string | undefined>>): CliRequest {
  const first = parseOptions(CLI_OPTIONS, args, { positionals: 'stop' });
  // dump and restore are programs of their own, not console commands: options may come on either side.
  const word = first.positionals[0];
  const kind = word === 'dump' || word === 'restore' ? word : 'run';
  const parsed = kind === 'run' ? first : mergeOptions(first, parseOptions(CLI_OPTIONS, first.positionals.slice(1), { positionals: 'stop' }));
  if (parsed.help) return { kind: 'help' };
  if (parsed.version) return { kind: 'version' };
  if (kind !== 'run' && parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${quote(parsed.positionals[0] ?? '')} after ${kind}`);
  const flag = (name: string): string | true | undefined => parsed.values.get(name);
  if (kind !== 'run') {
    for (const name of ['ordered', 'json', 'format']) if (flag(name) !== undefined) throw new UsageError(`option --${name} is for the console, not ${kind}`);
  }
  const format = flag('format');
  const options: CliOptions = {
    target: '',
    format: typeof format === 'string' ? checkFormat(format) : 'seed',
    ordered: flag('ordered') === true,
    json: flag('json') === true,
  };
  if (kind === 'run' && parsed.positionals.length > 0) options.command = parsed.positionals.join(' ');
  /* The environment is only read when no flag overrides it, so a stale bad value cannot block. */
  const target = flag('target');
  options.target = typeof target === 'string' ? checkTarget(target, '--target') : checkTarget(flagOrEnv(parsed, CLI_OPTIONS, 'target', env) ?? DEFAULT_TARGET, 'ARBOR_TARGET');
  const tlsCa = flagOrEnv(parsed, CLI_OPTIONS, 'tls-ca', env);
  if (tlsCa !== undefined) options.tlsCa = tlsCa;
  const token = env['ARBOR_TOKEN']?.trim();
  if (token !== undefined && token !== '') options.token = token;
  if (options.json && format !== undefined) throw new UsageError('--format and --json cannot be used together');
  return kind === 'run' ? { kind, options } : { kind, options };
}

/** The options before and after `dump`/`restore`, as one command line (later ones win). */
function mergeOptions(before: ReturnType<typeof parseOptions>, after: ReturnType<typeof parseOptions>): ReturnType<typeof parseOptions> {
  return {
    values: new Map([...before.values, ...after.values]),
    positionals: after.positionals,
    help: before.help || after.help,
    version: before.version || after.version,
  };
}

function checkTarget(target: string, source: string): string {
  if (/\s/.test(target)) throw new UsageError(`invalid ${source} ${quote(target)}: expected host:port`);
  return target;
}

function checkFormat(format: string): OutputFormat {
  const known = OUTPUT_FORMATS.find((name) => name === format);
  if (known === undefined) {
    throw new UsageError(`invalid --format ${quote(format)}: expected ${OUTPUT_FORMATS.join(' or ')}`);
  }
  return known;
}
