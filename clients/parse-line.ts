/**
 * @module One input line of the console → a `Command`, or a message saying what is wrong.
 *
 * Pure. The grammar is the assignment's: `create <id> [<parent>]`, `exec <id> <name> [<value>]`,
 * `ping <id>`, `heartbeat <time>` (also spelled `heartbit`), plus `help [<command>]` and `quit`.
 * Tokens are separated by any whitespace; a trailing `\r` (CRLF input) is ignored; empty lines and
 * lines whose first non-blank character is `#` are skipped.
 *
 * Numbers are strict on purpose: plain decimal digits with an optional leading `-` (leading zeros
 * are fine). `+5`, `1e3`, `0x10`, `1_000` and `5.0` are refused, because a typo that happens to
 * parse as some other number would silently store or address the wrong thing.
 * Range rules come from `proto/limits.ts`, so the console and the gateway say the same thing.
 */
import {
  MAX_HEARTBEAT_MS,
  MAX_NODE_ID,
  MIN_HEARTBEAT_MS,
  NO_PARENT,
  checkHeartbeatInterval,
  checkName,
  checkNodeId,
  checkValue,
  quote,
} from '../proto/limits.js';
import { COMMAND_WORDS, type Command, type HelpTopic } from './command.js';

/** What `parseLine` returns: a command, a line to ignore, or why the line is invalid. */
export type ParsedLine = Command | { kind: 'skip' } | { kind: 'invalid'; message: string };

/**
 * The longest line accepted. A valid line is far shorter (a name is at most 255 characters), so
 * anything longer is refused without being looked at; the line splitter keeps no more than this.
 */
export const MAX_LINE_CHARS = 4096;

const USAGE = {
  create: 'create <id> [<parent>]',
  exec: 'exec <id> <name> [<value>]',
  ping: 'ping <id>',
  heartbeat: 'heartbeat <time>',
  help: 'help [<command>]',
  quit: 'quit',
} as const satisfies Record<HelpTopic, string>;

const WORD_LIST = `${COMMAND_WORDS.slice(0, -1).join(', ')} or ${COMMAND_WORDS.at(-1)}`;

const NUMERAL = /^-?[0-9]+$/;
/* Longest numeral converted: ids beyond 15 characters are out of range anyway, and stay exact as
   a double up to there; int64 needs at most 20 characters. Longer ones are refused unconverted,
   so a 1 MiB run of digits costs nothing and is quoted short. */
const MAX_ID_CHARS = 15;
const MAX_VALUE_CHARS = 40;

/**
 * Parses one line. Never throws; every message names the offending token (shortened by
 * `quote()`) and the expected form.
 */
export function parseLine(line: string): ParsedLine {
  if (line.length > MAX_LINE_CHARS) {
    return invalid(`line ${quote(line)} is too long: expected at most ${MAX_LINE_CHARS} characters`);
  }
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return { kind: 'skip' };
  const [word = '', ...args] = trimmed.split(/\s+/);
  switch (word) {
    case 'create':
      return parseCreate(args);
    case 'exec':
      return parseExec(args);
    case 'ping':
      return parsePing(args);
    case 'heartbeat':
    case 'heartbit':
      return parseHeartbeat(word, args);
    case 'help':
      return parseHelp(args);
    case 'quit':
      return args.length === 0 ? { kind: 'quit' } : arity('quit takes no arguments', 'quit');
    default:
      return invalid(`unknown command ${quote(word)}: expected ${WORD_LIST}`);
  }
}

/** The usage line of a command, e.g. `exec <id> <name> [<value>]`, for help and messages. */
export function usageOf(topic: HelpTopic): string {
  return USAGE[topic];
}

function parseCreate(args: string[]): ParsedLine {
  const [idText, parentText] = args;
  if (idText === undefined || args.length > 2) return arity('create takes 1 or 2 arguments', 'create');
  const id = parseId(idText, 'id');
  if (typeof id === 'string') return invalid(id);
  if (parentText === undefined) return { kind: 'create', id };
  const parent = parseParent(parentText);
  if (typeof parent === 'string') return invalid(parent);
  return parent === NO_PARENT ? { kind: 'create', id } : { kind: 'create', id, parent };
}

function parseExec(args: string[]): ParsedLine {
  const [idText, name, valueText] = args;
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

function parsePing(args: string[]): ParsedLine {
  const [idText] = args;
  if (idText === undefined || args.length > 1) return arity('ping takes 1 argument', 'ping');
  const id = parseId(idText, 'id');
  return typeof id === 'string' ? invalid(id) : { kind: 'ping', id };
}

function parseHeartbeat(word: string, args: string[]): ParsedLine {
  const [timeText] = args;
  if (timeText === undefined || args.length > 1) {
    return invalid(`${word} takes 1 argument: ${word} <time>`);
  }
  const form = `0 (off) or an integer from ${MIN_HEARTBEAT_MS} to ${MAX_HEARTBEAT_MS} (milliseconds)`;
  if (!NUMERAL.test(timeText)) return invalid(malformed('time', timeText, form));
  if (timeText.length > MAX_ID_CHARS) return invalid(`time ${quote(timeText)} is out of range: expected ${form}`);
  const intervalMs = Number(timeText) || 0; // `-0` is 0
  const problem = checkHeartbeatInterval(intervalMs);
  return problem === undefined ? { kind: 'heartbeat', intervalMs } : invalid(problem);
}

function parseHelp(args: string[]): ParsedLine {
  const [topicText] = args;
  if (args.length > 1) return arity('help takes at most 1 argument', 'help');
  if (topicText === undefined) return { kind: 'help' };
  const topic = topicText === 'heartbit' ? 'heartbeat' : topicText;
  if (isHelpTopic(topic)) return { kind: 'help', topic };
  return invalid(`no help for ${quote(topicText)}: expected ${WORD_LIST}`);
}

function isHelpTopic(word: string): word is HelpTopic {
  return (COMMAND_WORDS as readonly string[]).includes(word);
}

/** A node id, or the message for a bad one. */
function parseId(text: string, what: string): number | string {
  const form = `an integer from 0 to ${MAX_NODE_ID}`;
  if (!NUMERAL.test(text)) return malformed(what, text, form);
  if (text.length > MAX_ID_CHARS) return `${what} ${quote(text)} is out of range: expected ${form}`;
  const id = Number(text) || 0; // `-0` is 0
  return checkNodeId(id, what) ?? id;
}

/** A parent id, `NO_PARENT` for `-1`, or the message for a bad one. */
function parseParent(text: string): number | string {
  if (NUMERAL.test(text) && Number(text) === NO_PARENT) return NO_PARENT;
  const parent = parseId(text, 'parent');
  return typeof parent === 'string' ? `${parent} (or ${NO_PARENT} for no parent)` : parent;
}

/** A signed 64-bit value, or the message for a bad one. */
function parseValue(text: string): bigint | string {
  const form = 'a signed 64-bit integer';
  if (!NUMERAL.test(text)) return malformed('value', text, form);
  if (text.length > MAX_VALUE_CHARS) return `value ${quote(text)} is out of range: expected ${form}`;
  const value = BigInt(text);
  return checkValue(value) ?? value;
}

/** The message for a token that is not a plain decimal integer. */
function malformed(what: string, text: string, form: string): string {
  /* Only mention the notation when the token looks like a number written some other way
     (`+5`, `1e3`, `0x10`): for `abc` the expected form says enough. */
  const hint = /[0-9]/.test(text) ? ' in plain decimal digits' : '';
  return `invalid ${what} ${quote(text)}: expected ${form}${hint}`;
}

function arity(problem: string, topic: HelpTopic): ParsedLine {
  return invalid(`${problem}: ${USAGE[topic]}`);
}

function invalid(message: string): ParsedLine {
  return { kind: 'invalid', message };
}
