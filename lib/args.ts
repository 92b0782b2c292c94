/**
 * @module The command lines of arbor's programs (`arbor`, `npm start`, `arbor-gateway`,
 * `arbor-agent`): one table of options per program, from which both the parsing and the
 * `--help` text come, so they cannot disagree. Pure.
 *
 * `node:util` `parseArgs` splits the arguments into tokens (it knows `--name=value`, `-t value`
 * and the `--` end of options); the table then checks each token, so that every mistake is one
 * short line naming it (`unknown option '--bogus'`, `option --target needs a value`), where
 * parseArgs' own messages run to several sentences. One convention for every program: that line
 * as `<program>: <problem> (see <program> --help)` on stderr, exit code 2 (`usageErrorLine`).
 * Flags win over environment variables, which win over defaults; the program applies that
 * order with `flagOrEnv`, and each option's help line names its variable.
 */
import { parseArgs } from 'node:util';

/** One option of a program. */
export interface OptionSpec {
  /** `string` takes a value (`--name VALUE` or `--name=VALUE`); `boolean` takes none. */
  type: 'string' | 'boolean';
  /** A one-letter short form (`t` for `-t`). */
  short?: string;
  /** The value's placeholder in the help text (`host:port`); `string` options only. */
  value?: string;
  /** The environment variable read when the flag is not given. */
  env?: string;
  /** The default, as the help text shows it. */
  default?: string;
  /** What it does (and its default), one or more lines of help. */
  help: string | readonly string[];
}

/** A program's options by long name (without `--`), in help order. */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** The exit code of a usage error, in every program. */
export const EXIT_USAGE = 2;

/** A mistake on the command line: the message is one line, without the program name. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `--help` and `--version`: every program has them, and they win over any mistake beside them. */
export const COMMON_OPTIONS: OptionTable = {
  help: { type: 'boolean', short: 'h', help: 'print this text' },
  version: { type: 'boolean', help: "print the version (and Node's)" },
};

/** What the options on a command line say. */
export interface ParsedOptions {
  /** Each given option's value (`true` for a boolean), the last one when given twice. */
  values: ReadonlyMap<string, string | true>;
  /** The arguments that are not options (with `stopAtPositional`, everything from the first one on). */
  positionals: string[];
  help: boolean;
  version: boolean;
}

/** How `parseOptions` treats arguments that are not options. */
export interface ParseMode {
  /** Refuse them (`unexpected argument 'x'`): the default. */
  positionals?: 'refuse' | 'allow' | 'stop';
}

/**
 * Reads `argv` against `table` (plus `--help` and `--version`).
 *
 * `positionals: 'stop'`: options end at the first argument that is neither an option nor an
 * option's value; it and everything after it are positionals as given (`arbor exec 1 a -5`).
 * `--help` or `--version` anywhere among the options wins, even beside a mistake.
 *
 * @throws UsageError for an unknown option, a missing value, a value given to a boolean, or
 *   (unless allowed) an argument that is not an option
 */
export function parseOptions(table: OptionTable, argv: readonly string[], mode: ParseMode = {}): ParsedOptions {
  const all = { ...table, ...COMMON_OPTIONS };
  const split = mode.positionals === 'stop' ? firstPositional(all, argv) : argv.length;
  const optionArgs = argv.slice(0, split);
  const { tokens } = parseArgs({ args: [...optionArgs], options: asParseArgsOptions(all), strict: false, allowPositionals: true, tokens: true });
  const wins = (name: string): boolean => tokens.some((token) => token.kind === 'option' && token.name === name && all[name] !== undefined);
  const help = wins('help');
  const version = wins('version');
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  let problem: string | undefined;
  for (const token of tokens) {
    if (problem !== undefined) break;
    if (token.kind === 'positional') {
      if (mode.positionals === 'refuse' || mode.positionals === undefined) problem = `unexpected argument ${quoteArg(token.value)}`;
      else positionals.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    const spec = all[token.name];
    const flag = token.rawName;
    if (spec === undefined) {
      problem = `unknown option ${quoteArg(optionArgs[token.index] ?? flag)}`;
    } else if (spec.type === 'boolean') {
      if (token.inlineValue === true) problem = `option ${flag} takes no value`;
      else values.set(token.name, true);
    } else {
      const value = token.value;
      /* `--target --json` is a forgotten value, not a target named "--json". */
      if (value === undefined || value === '' || (token.inlineValue !== true && value.startsWith('--'))) problem = `option ${flag} needs a value`;
      else values.set(token.name, value);
    }
  }
  if (help || version) return { values, positionals, help, version };
  if (problem !== undefined) throw new UsageError(problem);
  return { values, positionals: [...positionals, ...argv.slice(split)], help, version };
}

/**
 * A string option's value: the flag's, else the environment variable's (trimmed; empty counts
 * as unset), else `fallback`.
 */
export function flagOrEnv(
  parsed: ParsedOptions,
  table: OptionTable,
  name: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const given = parsed.values.get(name);
  if (typeof given === 'string') return given;
  const variable = table[name]?.env;
  const fromEnv = variable === undefined ? undefined : env[variable]?.trim();
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/** Whether a boolean option is on: the flag, or its variable set to `1` or `true`. */
export function flagOrEnvSwitch(parsed: ParsedOptions, table: OptionTable, name: string, env: Readonly<Record<string, string | undefined>>): boolean {
  if (parsed.values.get(name) === true) return true;
  const variable = table[name]?.env;
  const value = variable === undefined ? undefined : env[variable]?.trim();
  return value === '1' || value === 'true';
}

/** The one line a usage error prints, in every program. */
export function usageErrorLine(program: string, problem: string): string {
  return `${program}: ${problem} (see ${program} --help)`;
}

/** What a program's `--help` says besides its options. */
export interface HelpText {
  /** The usage lines (`Usage: arbor [options] ...`). */
  usage: readonly string[];
  /** Paragraphs after the usage lines. */
  about?: readonly string[];
  /** Variables read that no option stands for (`ARBOR_TOKEN`, never a flag: it would show in `ps`). */
  environment?: Readonly<Record<string, string>>;
  /** Lines at the end (exit status). */
  footer?: readonly string[];
}

/** The `--help` text: usage, about, then one entry per option of `table` (with its variable), then `--help` and `--version`. */
export function helpText(table: OptionTable, text: HelpText): string {
  const all = { ...table, ...COMMON_OPTIONS };
  const left = (name: string, spec: OptionSpec): string =>
    `${spec.short === undefined ? '' : `-${spec.short}, `}--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
  const entries = Object.entries(all).map(([name, spec]) => {
    const help = typeof spec.help === 'string' ? [spec.help] : [...spec.help];
    const notes = [spec.env === undefined ? '' : `env ${spec.env}`, spec.default === undefined ? '' : `default ${spec.default}`].filter((note) => note !== '');
    if (notes.length > 0) help[help.length - 1] = `${help.at(-1) ?? ''} (${notes.join(', ')})`;
    return { left: left(name, spec), help };
  });
  const variables = Object.entries(text.environment ?? {}).map(([name, help]) => ({ left: name, help: [help] }));
  const width = Math.max(...[...entries, ...variables].map((entry) => entry.left.length)) + 2;
  const column = (entry: { left: string; help: string[] }): string[] =>
    entry.help.map((line, i) => `  ${(i === 0 ? entry.left : '').padEnd(width)}${line}`);
  return [
    ...text.usage,
    ...(text.about === undefined ? [] : ['', ...text.about]),
    '',
    'Options:',
    ...entries.flatMap(column),
    ...(variables.length === 0 ? [] : ['', 'Environment only:', ...variables.flatMap(column)]),
    ...(text.footer === undefined ? [] : ['', ...text.footer]),
  ].join('\n');
}

/** Where options end in `argv` (see `parseOptions`' `stop`): the index of the first positional. */
function firstPositional(table: OptionTable, argv: readonly string[]): number {
  const takesValue = new Set<string>();
  for (const [name, spec] of Object.entries(table)) {
    if (spec.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (spec.short !== undefined) takesValue.add(`-${spec.short}`);
  }
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--') return i + 1;
    if (!arg.startsWith('-') || arg === '-') return i;
    if (takesValue.has(arg)) i += 1;
  }
  return argv.length;
}

function asParseArgsOptions(table: OptionTable): Record<string, { type: 'string' | 'boolean'; short?: string }> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of Object.entries(table)) options[name] = { type: spec.type, ...(spec.short !== undefined && { short: spec.short }) };
  return options;
}

/** An argument in single quotes, control characters shown as `?` (it goes on one line of stderr). */
function quoteArg(text: string): string {
  return `'${[...text].map((c) => (c < ' ' || c === '\u007f' ? '?' : c)).join('')}'`;
}
