/**
 * @module The limits of the public API (see `arbor/v1/arbor.proto`), checked in one place.
 *
 * Both the gateway (which must refuse what it is sent) and the CLI (which refuses a bad line
 * before sending it) use these checks, so both say the same thing about the same input.
 * Each check returns `undefined` when the input is acceptable, else the problem in words.
 */

export const MAX_NODE_ID = 2_147_483_647;
export const MAX_NAME_BYTES = 255;
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
/** `parent = -1` means "no parent given", as in the assignment's report. */
export const NO_PARENT = -1;
/**
 * Commands one SessionRequest may carry (and results one SessionResponse carries at most): the
 * gateway refuses a bigger request, and the CLI never sends one.
 */
export const SESSION_MAX_BATCH = 1024;

const NAME_PATTERN = /^[A-Za-z0-9]+$/;
const SHOWN_CHARS = 40;

/** Shortens what a message quotes back, so a 1 MiB input does not become a 1 MiB error. */
export function quote(text: string): string {
  const shown = text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}...` : text;
  return `'${shown.replace(/[^\x20-\x7e]/g, '?')}'`;
}

export function checkNodeId(id: number, what = 'id'): string | undefined {
  if (Number.isInteger(id) && id >= 0 && id <= MAX_NODE_ID) return undefined;
  return `${what} ${id} is out of range: expected an integer from 0 to ${MAX_NODE_ID}`;
}

export function checkName(name: string): string | undefined {
  if (NAME_PATTERN.test(name) && name.length <= MAX_NAME_BYTES) return undefined;
  if (name.length === 0) return 'name is empty: expected 1 to 255 characters from [A-Za-z0-9]';
  return `name ${quote(name)} is invalid: expected 1 to 255 characters from [A-Za-z0-9]`;
}

export function checkValue(value: bigint): string | undefined {
  if (value >= INT64_MIN && value <= INT64_MAX) return undefined;
  return `value ${value} is out of range: expected a signed 64-bit integer`;
}

export const MIN_HEARTBEAT_MS = 10;
export const MAX_HEARTBEAT_MS = 3_600_000;

export function checkHeartbeatInterval(ms: number): string | undefined {
  if (Number.isInteger(ms) && (ms === 0 || (ms >= MIN_HEARTBEAT_MS && ms <= MAX_HEARTBEAT_MS))) return undefined;
  return `heartbeat interval ${ms} ms is out of range: expected 0 (off) or ${MIN_HEARTBEAT_MS} to ${MAX_HEARTBEAT_MS}`;
}

/** Keys: entries per page when the request gives no limit, and the most it may ask for. */
export const DEFAULT_KEYS_LIMIT = 1000;
export const MAX_KEYS_LIMIT = 10_000;

const PREFIX_PATTERN = /^[A-Za-z0-9]*$/;

/** A prefix or a start_after: a name's characters and limits, and it may be empty. */
export function checkPrefix(prefix: string, what = 'prefix'): string | undefined {
  if (PREFIX_PATTERN.test(prefix) && prefix.length <= MAX_NAME_BYTES) return undefined;
  return `${what} ${quote(prefix)} is invalid: expected 0 to 255 characters from [A-Za-z0-9]`;
}

export function checkKeysLimit(limit: number): string | undefined {
  if (Number.isInteger(limit) && limit >= 0 && limit <= MAX_KEYS_LIMIT) return undefined;
  return `limit ${limit} is out of range: expected 1 to ${MAX_KEYS_LIMIT} (0: the default, ${DEFAULT_KEYS_LIMIT})`;
}
