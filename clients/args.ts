/**
 * @module The `arbor` command line: flags and environment → options, or a usage error. Pure.
 *
 * Hand-written rather than `util.parseArgs` so every usage error is one short line that names
 * the problem (parseArgs' messages run to several sentences).
 */
import { quote } from '../proto/limits.js';
import { OUTPUT_FORMATS, type OutputFormat } from './output-format.js';

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

/** A usage error: the message (one line, without the program name). Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The `--help` text of `arbor`. */
export const USAGE_TEXT = [
  'Usage: arbor [-t|--target host:port] [--format seed|mai] [--ordered] [--json] [--tls-ca FILE] [<command> [args...]]',
  '       arbor dump [-t|--target host:port] [--tls-ca FILE] > data.jsonl',
  '       arbor restore [-t|--target host:port] [--tls-ca FILE] < data.jsonl',
  '',
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
  '',
  'Options:',
  `  -t, --target ADDR    the gateway's host:port (default: env ARBOR_TARGET, else ${DEFAULT_TARGET})`,
  '  --format seed|mai    reply lines as in the lab report (seed, the default) or the course (mai)',
  '  --ordered            print replies in input order instead of as they arrive',
  '  --json               print one JSON object per reply (JSON Lines)',
  '  --tls-ca FILE        connect with TLS, trusting the CA certificate in FILE (PEM; env ARBOR_TLS_CA)',
  '  --help               print this text',
  "  --version            print the version (and Node's)",
  '',
  'Environment:',
  '  ARBOR_TARGET         the gateway, when --target is not given',
  '  ARBOR_TOKEN          sent as "authorization: Bearer <token>" (for a gateway started with one)',
  '  NO_COLOR             when set (to anything), no colours; there are none off a terminal anyway',
  '  XDG_STATE_HOME       the prompt history is kept in $XDG_STATE_HOME/arbor/history',
  '                       (default ~/.local/state/arbor/history, last 1000 lines)',
  '',
  'Exit status: 0 when every command succeeded, 1 when any failed, 2 for a usage error or an',
  'unreachable gateway (or one lost while running a script).',
].join('\n');

/**
 * Reads the command line: options, then (one-shot) a command and its arguments. `--help` and
 * `--version` among the options win over everything else, so they work even next to a mistake;
 * after the command word everything belongs to the command (`tree --json`, `exec 1 a -5`).
 *
 * @throws UsageError for an unknown option or a missing or bad value
 */
export function parseArgs(args: readonly string[], env: Readonly<Record<string, string | undefined>>): CliRequest {
  let argv = args;
  let commandAt = firstCommandWord(argv);
  // dump and restore are programs of their own, not console commands: options may come on either side.
  const word = argv[commandAt];
  const kind = word === 'dump' || word === 'restore' ? word : 'run';
  if (kind !== 'run') {
    argv = [...argv.slice(0, commandAt), ...argv.slice(commandAt + 1)];
    commandAt = firstCommandWord(argv);
  }
  const optionArgs = argv.slice(0, commandAt);
  if (optionArgs.includes('--help') || optionArgs.includes('-h')) return { kind: 'help' };
  if (optionArgs.includes('--version')) return { kind: 'version' };
  if (kind !== 'run' && commandAt < argv.length) throw new UsageError(`unexpected argument ${quote(argv[commandAt] ?? '')} after ${kind}`);
  const options: CliOptions = {
    target: '',
    format: 'seed',
    ordered: false,
    json: false,
  };
  let formatGiven = false;
  let target: string | undefined;
  let tlsCa: string | undefined;
  for (let i = 0; i < optionArgs.length; i += 1) {
    const arg = optionArgs[i] ?? '';
    const [flag, inline] = splitInline(arg);
    const value = (): string => {
      const found = inline ?? optionArgs[++i];
      /* `--target --json` is a forgotten value, not a target named "--json". */
      if (found === undefined || found === '' || (inline === undefined && found.startsWith('--'))) {
        throw new UsageError(`option ${flag} needs a value`);
      }
      return found;
    };
    switch (flag) {
      case '--target':
      case '-t':
        target = checkTarget(value(), '--target');
        break;
      case '--tls-ca':
        tlsCa = value();
        break;
      case '--format':
        options.format = checkFormat(value());
        formatGiven = true;
        break;
      case '--ordered':
      case '--json':
        if (kind !== 'run') throw new UsageError(`option ${flag} is for the console, not ${kind}`);
        if (inline !== undefined) throw new UsageError(`option ${flag} takes no value`);
        options[flag === '--json' ? 'json' : 'ordered'] = true;
        break;
      default:
        throw new UsageError(`unknown option ${quote(arg)}`);
    }
  }
  if (commandAt < argv.length) options.command = argv.slice(commandAt).join(' ');
  /* The environment is only read when no flag overrides it, so a stale bad value cannot block. */
  options.target = target ?? checkTarget(nonEmpty(env['ARBOR_TARGET']) ?? DEFAULT_TARGET, 'ARBOR_TARGET');
  tlsCa ??= nonEmpty(env['ARBOR_TLS_CA']);
  if (tlsCa !== undefined) options.tlsCa = tlsCa;
  const token = nonEmpty(env['ARBOR_TOKEN']);
  if (token !== undefined) options.token = token;
  if (options.json && formatGiven) throw new UsageError('--format and --json cannot be used together');
  if (kind !== 'run' && formatGiven) throw new UsageError(`option --format is for the console, not ${kind}`);
  switch (kind) {
    case 'dump':
    case 'restore':
      return { kind, options };
    case 'run':
      return { kind, options };
  }
}

/** Options that take a value as the next argument, when not given as `--name=value`. */
const TAKES_VALUE: ReadonlySet<string> = new Set(['--target', '-t', '--tls-ca', '--format']);

/**
 * Where the one-shot command starts: the first argument that is neither an option nor an
 * option's value (`argv.length` when there is none).
 */
function firstCommandWord(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('-')) return i;
    if (TAKES_VALUE.has(arg)) i += 1;
  }
  return argv.length;
}

/** `--name=value` → [`--name`, `value`]; anything else → [arg, undefined]. */
function splitInline(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  if (!arg.startsWith('--') || eq === -1) return [arg, undefined];
  return [arg.slice(0, eq), arg.slice(eq + 1)];
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

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}
