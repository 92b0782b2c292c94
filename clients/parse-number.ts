/**
 * @module The numbers of a console line: node ids, parents, values and heartbeat times. Pure.
 *
 * Numbers are strict on purpose: plain decimal digits with an optional leading `-` (leading zeros
 * are fine). `+5`, `1e3`, `0x10`, `1_000` and `5.0` are refused, because a typo that happens to
 * parse as some other number would silently store or address the wrong thing.
 * Range rules come from `proto/limits.ts`, so the console and the gateway say the same thing.
 * Each function returns the number, or (as a string) the message saying what is wrong.
 */
import {
  MAX_HEARTBEAT_MS,
  MAX_NODE_ID,
  MIN_HEARTBEAT_MS,
  NO_PARENT,
  checkHeartbeatInterval,
  checkNodeId,
  checkValue,
  quote,
} from '../proto/limits.js';

const NUMERAL = /^-?[0-9]+$/;
/* Longest numeral converted: ids beyond 15 characters are out of range anyway, and stay exact as
   a double up to there; int64 needs at most 20 characters. Longer ones are refused unconverted,
   so a 1 MiB run of digits costs nothing and is quoted short. */
const MAX_ID_CHARS = 15;
const MAX_VALUE_CHARS = 40;

const ID_FORM = `an integer from 0 to ${MAX_NODE_ID}`;

/** A node id, or the message for a bad one; `what` names it (`id`, `parent`). */
export function parseId(text: string, what: string): number | string {
  if (!NUMERAL.test(text)) return malformed(what, text, ID_FORM);
  if (text.length > MAX_ID_CHARS) return `${what} ${quote(text)} is out of range: expected ${ID_FORM}`;
  const id = Number(text) || 0; // `-0` is 0
  return checkNodeId(id, what) ?? id;
}

/** A parent id, `NO_PARENT` for `-1`, or the message for a bad one. */
export function parseParent(text: string): number | string {
  if (NUMERAL.test(text) && Number(text) === NO_PARENT) return NO_PARENT;
  const parent = parseId(text, 'parent');
  return typeof parent === 'string' ? `${parent} (or ${NO_PARENT} for no parent)` : parent;
}

/** A signed 64-bit value, or the message for a bad one. */
export function parseValue(text: string): bigint | string {
  const form = 'a signed 64-bit integer';
  if (!NUMERAL.test(text)) return malformed('value', text, form);
  if (text.length > MAX_VALUE_CHARS) return `value ${quote(text)} is out of range: expected ${form}`;
  const value = BigInt(text);
  return checkValue(value) ?? value;
}

/** A heartbeat interval in milliseconds (0 = off), or the message for a bad one. */
export function parseInterval(text: string): number | string {
  const form = `0 (off) or an integer from ${MIN_HEARTBEAT_MS} to ${MAX_HEARTBEAT_MS} (milliseconds)`;
  if (!NUMERAL.test(text)) return malformed('time', text, form);
  if (text.length > MAX_ID_CHARS) return `time ${quote(text)} is out of range: expected ${form}`;
  const intervalMs = Number(text) || 0; // `-0` is 0
  return checkHeartbeatInterval(intervalMs) ?? intervalMs;
}

/** The message for a token that is not a plain decimal integer. */
function malformed(what: string, text: string, form: string): string {
  /* Only mention the notation when the token looks like a number written some other way
     (`+5`, `1e3`, `0x10`): for `abc` the expected form says enough. */
  const hint = /[0-9]/.test(text) ? ' in plain decimal digits' : '';
  return `invalid ${what} ${quote(text)}: expected ${form}${hint}`;
}
