/**
 * @module One input line of the console → a `Command`, or a message saying what is wrong.
 *
 * Pure. The grammar is the assignment's: `create <id> [<parent>]`, `exec <id> <name> [<value>]`,
 * `ping <id>`, `heartbeat <time>` (also spelled `heartbit`), `remove <id>`, the dictionary's
 * `keys <id> [<prefix>]`, `del <id> <name>` and `watch [<id>] [<prefix>]`, plus the console's own
 * `tree [--json]`, `status`, `help [<command>]` and `quit`. Tokens are separated by any
 * whitespace; a trailing `\r` (CRLF input) is ignored; empty lines and lines whose first non-blank
 * character is `#` are skipped. Numbers are read by `parse-number.ts`.
 */
import { NO_PARENT, checkName, checkPrefix, quote } from '../proto/limits.js';
import { COMMAND_WORDS, type Command, type HelpTopic } from './command.js';
import { parseId, parseInterval, parseParent, parseValue } from './parse-number.js';

/** What `parseLine` returns: a command, a line to ignore, or why the line is invalid. */
export type ParsedLine = Command | { kind: 'skip' } | { kind: 'invalid'; message: string };

/**
 * The longest line accepted. A valid line is far shorter (a name is at most 255 characters), so
 * anything longer is refused without being looked at; the line splitter keeps no more than this.
 */
export const MAX_LINE_CHARS = 4096;

const USAGE = {
  create: 'create <id> [<parent>] [on <host>]',
  exec: 'exec <id> <name> [<value>]',
  ping: 'ping <id>',
  heartbeat: 'heartbeat <time>',
  remove: 'remove <id>',
  keys: 'keys <id> [<prefix>]',
  del: 'del <id> <name>',
  watch: 'watch [<id>] [<prefix>]',
  tree: 'tree [--json]',
  status: 'status',
  help: 'help [<command>]',
  quit: 'quit',
} as const satisfies Record<HelpTopic, string>;

const WORD_LIST = `${COMMAND_WORDS.slice(0, -1).join(', ')} or ${COMMAND_WORDS.at(-1)}`;

const WHITESPACE = /\s+/;

/**
 * The words of a line: what `line.trim().split(/\s+/)` gives, without the empty word of a blank
 * line. A script's lines are scanned by hand while they are ASCII (a piped script runs this
 * thousands of times, mostly before the JIT has optimised anything, where the regular expression
 * split and the array destructuring cost several times the scan); any other character takes the
 * regular expression, whose `\s` knows every Unicode space. Exported for its test.
 */
export function words(line: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c >= 0x80) {
      const trimmed = line.trim();
      return trimmed === '' ? [] : trimmed.split(WHITESPACE);
    }
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) {
      if (start >= 0) out.push(line.slice(start, i));
      start = -1;
    } else if (start < 0) start = i;
  }
  if (start >= 0) out.push(line.slice(start));
  return out;
}

/**
 * Parses one line. Never throws; every message is one line that names the offending token
 * (shortened and made printable by `quote()`) and the expected form.
 */
export function parseLine(line: string): ParsedLine {
  if (line.length > MAX_LINE_CHARS) {
    return invalid(`line ${quote(line)} is too long: expected at most ${MAX_LINE_CHARS} characters`);
  }
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  const tokens = words(text);
  const word = tokens[0];
  if (word === undefined || word.startsWith('#')) return { kind: 'skip' };
  tokens.shift();
  const args = tokens;
  switch (word) {
    case 'create':
      return parseCreate(args);
    case 'exec':
      return parseExec(args);
    case 'ping':
    case 'remove':
      return parseIdOnly(word, args);
    case 'heartbeat':
    case 'heartbit':
      return parseHeartbeat(word, args);
    case 'keys':
      return parseKeys(args);
    case 'del':
      return parseDel(args);
    case 'watch':
      return parseWatch(args);
    case 'tree':
      return parseTree(args);
    case 'help':
      return parseHelp(args);
    case 'status':
    case 'quit':
      return args.length === 0 ? { kind: word } : arity(`${word} takes no arguments`, word);
    default:
      return invalid(`unknown command ${quote(word)}: expected ${WORD_LIST}`);
  }
}

/** The usage line of a command, e.g. `exec <id> <name> [<value>]`, for help and messages. */
export function usageOf(topic: HelpTopic): string {
  return USAGE[topic];
}

/** Whether `word` is a command word `help` explains (`heartbit` is not: it is `heartbeat`). */
export function isHelpTopic(word: string): word is HelpTopic {
  return (COMMAND_WORDS as readonly string[]).includes(word);
}

const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function parseCreate(all: string[]): ParsedLine {
  // `on <host>` (other hosts) ends the line: `create 20 on b`, `create 20 8 on b`.
  let args = all;
  let host: string | undefined;
  const last = all[all.length - 1];
  if (all.length >= 2 && all[all.length - 2] === 'on' && last !== undefined) {
    if (!HOST_NAME.test(last)) return invalid(`host ${JSON.stringify(last.slice(0, 80))}: expected a host name (letters, digits, . _ -; at most 63)`);
    host = last;
    args = all.slice(0, -2);
  }
  const [idText, parentText] = args;
  if (idText === undefined || args.length > 2) return arity('create takes 1 or 2 arguments', 'create');
  const id = parseId(idText, 'id');
  if (typeof id === 'string') return invalid(id);
  const on = host === undefined ? {} : { host };
  if (parentText === undefined) return { kind: 'create', id, ...on };
  const parent = parseParent(parentText);
  if (typeof parent === 'string') return invalid(parent);
  return parent === NO_PARENT ? { kind: 'create', id, ...on } : { kind: 'create', id, parent, ...on };
}

function parseExec(args: string[]): ParsedLine {
  const idText = args[0];
  const name = args[1];
  const valueText = args[2];
  if (idText === undefined || name === undefined || args.length > 3) {
    return arity('exec takes 2 or 3 arguments', 'exec');
  }
  const id = parseId(idText, 'id');
  if (typeof id === 'string') return invalid(id);
  const nameProblem = checkName(name);
  if (nameProblem !== undefined) return invalid(nameProblem);
  if (valueText === undefined) return { kind: 'exec', id, name };
  const value = parseValue(valueText);
  if (typeof value === 'string') return invalid(value);
  return { kind: 'exec', id, name, value };
}

function parseIdOnly(word: 'ping' | 'remove', args: string[]): ParsedLine {
  const [idText] = args;
  if (idText === undefined || args.length > 1) return arity(`${word} takes 1 argument`, word);
  const id = parseId(idText, 'id');
  return typeof id === 'string' ? invalid(id) : { kind: word, id };
}

function parseKeys(args: string[]): ParsedLine {
  const [idText, prefix = ''] = args;
  if (idText === undefined || args.length > 2) return arity('keys takes 1 or 2 arguments', 'keys');
  const id = parseId(idText, 'id');
  if (typeof id === 'string') return invalid(id);
  const problem = checkPrefix(prefix);
  return problem === undefined ? { kind: 'keys', id, prefix } : invalid(problem);
}

function parseDel(args: string[]): ParsedLine {
  const [idText, name] = args;
  if (idText === undefined || name === undefined || args.length > 2) return arity('del takes 2 arguments', 'del');
  const id = parseId(idText, 'id');
  if (typeof id === 'string') return invalid(id);
  const problem = checkName(name);
  return problem === undefined ? { kind: 'delete', id, name } : invalid(problem);
}

/**
 * `watch`, `watch <id>`, `watch <id> <prefix>`, `watch <prefix>` (a lone argument with a letter
 * in it is a prefix over every node) and `watch * <prefix>` (every node, any prefix).
 */
function parseWatch(args: string[]): ParsedLine {
  if (args.length > 2) return arity('watch takes at most 2 arguments', 'watch');
  const [first, second] = args;
  if (first === undefined) return { kind: 'watch', prefix: '' };
  const lonePrefix = second === undefined && /[A-Za-z]/.test(first);
  const prefix = lonePrefix ? first : (second ?? '');
  const problem = checkPrefix(prefix);
  if (problem !== undefined) return invalid(problem);
  if (lonePrefix || first === '*') return { kind: 'watch', prefix };
  const id = parseId(first, 'id');
  return typeof id === 'string' ? invalid(id) : { kind: 'watch', id, prefix };
}

function parseHeartbeat(word: string, args: string[]): ParsedLine {
  const [timeText] = args;
  if (timeText === undefined || args.length > 1) {
    return invalid(`${word} takes 1 argument: ${word} <time>`);
  }
  const intervalMs = parseInterval(timeText);
  return typeof intervalMs === 'string' ? invalid(intervalMs) : { kind: 'heartbeat', intervalMs };
}

function parseTree(args: string[]): ParsedLine {
  const [option] = args;
  if (args.length > 1) return arity('tree takes at most 1 argument', 'tree');
  if (option === undefined) return { kind: 'tree', json: false };
  if (option === '--json') return { kind: 'tree', json: true };
  return invalid(`unknown tree option ${quote(option)}: ${USAGE.tree}`);
}

function parseHelp(args: string[]): ParsedLine {
  const [topicText] = args;
  if (args.length > 1) return arity('help takes at most 1 argument', 'help');
  if (topicText === undefined) return { kind: 'help' };
  const topic = topicText === 'heartbit' ? 'heartbeat' : topicText;
  if (isHelpTopic(topic)) return { kind: 'help', topic };
  return invalid(`no help for ${quote(topicText)}: expected ${WORD_LIST}`);
}

function arity(problem: string, topic: HelpTopic): ParsedLine {
  return invalid(`${problem}: ${USAGE[topic]}`);
}

function invalid(message: string): ParsedLine {
  return { kind: 'invalid', message };
}
