/**
 * @module The bytes of a node's write-ahead log, and how a log is read back. Pure.
 *
 * A log is an 8-byte magic, then records. A record is
 *
 *   u32 payload length | u32 CRC-32C of the payload | payload: u8 type (1 = put) | i64 value | name
 *                                                    or: u8 type (2 = delete) | name
 *
 * little-endian. A snapshot (compaction) is a log of one put per live name. Logs written before
 * deletes existed hold only puts, and read as they always did.
 *
 * Reading tells a torn tail from corruption. Only what one interrupted append can leave is cut:
 * the first bad record must be the log's last one, cut short by the end of the file or ending in
 * zeros (the file grew but the data never came), with nothing but zeros after it, and no valid
 * record may start anywhere after its first byte. Anything else (a record with a bad checksum
 * and its own last byte written, a length that does not fit what follows, a valid record after
 * the bad one) is damage: reading on, or cutting there, would silently drop acknowledged values,
 * so the log is refused instead. etcd's WAL draws the same line (a bad record is torn only if it
 * runs past the end or holds a zeroed sector), and LevelDB's log reader treats only a record cut
 * by the end of the file as the writer's death.
 */
import { crc32c } from './crc32c.js';

export const WAL_MAGIC = Buffer.from('ARBORWL1', 'latin1');
export const RECORD_HEADER_BYTES = 8;
const PUT = 1;
const DELETE = 2;
const MAX_NAME = 255;
/** The shortest record of all: a delete of a one-byte name. */
const MIN_DELETE_PAYLOAD = 1 + 1;
const MAX_PAYLOAD = 1 + 8 + MAX_NAME;
/** The longest record: a torn tail is at most one record, so more bytes left than this are damage. */
export const MAX_RECORD_BYTES = RECORD_HEADER_BYTES + MAX_PAYLOAD;

/** The whole record of one put. */
export function putRecord(name: string, value: bigint): Buffer {
  const payload = 1 + 8 + name.length;
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload);
  buf.writeUInt32LE(payload, 0);
  buf.writeUInt8(PUT, 8);
  buf.writeBigInt64LE(value, 9);
  buf.write(name, 17, 'latin1');
  buf.writeUInt32LE(crc32c(buf, RECORD_HEADER_BYTES), 4);
  return buf;
}

/** The whole record of one delete. */
export function deleteRecord(name: string): Buffer {
  const payload = 1 + name.length;
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload);
  buf.writeUInt32LE(payload, 0);
  buf.writeUInt8(DELETE, 8);
  buf.write(name, 9, 'latin1');
  buf.writeUInt32LE(crc32c(buf, RECORD_HEADER_BYTES), 4);
  return buf;
}

/** Where the name of a record of type `type` starts in its payload, or undefined for an unknown type. */
const nameOffset = (type: number | undefined): number | undefined => (type === PUT ? 9 : type === DELETE ? 1 : undefined);

/** Bytes one put of `name` takes in the log. */
export const putRecordBytes = (name: string): number => RECORD_HEADER_BYTES + 1 + 8 + name.length;

export interface ScannedLog {
  /** The dictionary the valid records give, in order (a later put of a name wins). */
  entries: Map<string, bigint>;
  /** Bytes from the start that hold valid data (magic and whole records). */
  validBytes: number;
  /** Why reading stopped early: a torn tail (cut it at `validBytes`) or corruption (refuse). */
  problem?: { kind: 'torn' | 'corrupt'; what: string };
}

function isNameByte(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * A valid record at `at`: where it ends; else what is wrong with it, whether its checksum held
 * (then it was written whole), and whether the file ends before it does.
 */
type RecordAt = number | BadRecord;
interface BadRecord {
  what: string;
  checksummed?: boolean;
  cutShort?: boolean;
}

function recordAt(buf: Buffer, at: number): RecordAt {
  const left = buf.length - at;
  if (left < RECORD_HEADER_BYTES) return { what: `a partial record header of ${left} bytes`, cutShort: true };
  const len = buf.readUInt32LE(at);
  if (len < MIN_DELETE_PAYLOAD || len > MAX_PAYLOAD) return { what: `a record length of ${len}` };
  const end = at + RECORD_HEADER_BYTES + len;
  if (end > buf.length) return { what: `a record of ${RECORD_HEADER_BYTES + len} bytes with ${left} left in the file`, cutShort: true };
  if (crc32c(buf, at + RECORD_HEADER_BYTES, end) !== buf.readUInt32LE(at + 4)) return { what: 'a record with a bad checksum' };
  const p = at + RECORD_HEADER_BYTES;
  const offset = nameOffset(buf[p]);
  if (offset === undefined) return { what: `a record of unknown type ${buf[p]}`, checksummed: true };
  if (len < offset + 1) return { what: `a record of type ${buf[p]} and length ${len}`, checksummed: true };
  for (let i = p + offset; i < end; i++) if (!isNameByte(buf[i] as number)) return { what: 'a name byte outside [A-Za-z0-9]', checksummed: true };
  return end;
}

/**
 * Whether `rest` (from a bad record to the end of the file) is what one interrupted append can
 * leave: the first bytes of one record, then nothing or zeros. `written` is how many bytes come
 * before the zeros (the last non-zero byte and all before it were written, so they must fit a
 * record's prefix); a whole record always ends in a name byte, never zero, so a record whose
 * last byte is there was not interrupted.
 */
function couldBeInterrupted(rest: Buffer, written: number): boolean {
  // The length field as far as it is in the file (the tear may have zeroed its upper bytes).
  let len = 0;
  for (let i = Math.min(4, rest.length) - 1; i >= 0; i--) len = len * 256 + (rest[i] as number);
  if (len > MAX_PAYLOAD) return false;
  // Too small a length is a tear only inside the length field itself.
  if (len < MIN_DELETE_PAYLOAD) return written <= 3;
  if (written >= RECORD_HEADER_BYTES + len) return false;
  if (written <= RECORD_HEADER_BYTES) return true;
  const offset = nameOffset(rest[RECORD_HEADER_BYTES]);
  if (offset === undefined || len < offset + 1) return false;
  for (let i = RECORD_HEADER_BYTES + offset; i < written; i++) if (!isNameByte(rest[i] as number)) return false;
  return true;
}

/** Reads a whole log file's bytes. An empty buffer is an empty, valid log (a new file). */
export function scanLog(buf: Buffer): ScannedLog {
  const entries = new Map<string, bigint>();
  if (buf.length === 0) return { entries, validBytes: 0 };
  if (buf.length < WAL_MAGIC.length) {
    // Only the magic itself can have been torn.
    return WAL_MAGIC.subarray(0, buf.length).equals(buf)
      ? { entries, validBytes: 0, problem: { kind: 'torn', what: 'a partial header' } }
      : { entries, validBytes: 0, problem: { kind: 'corrupt', what: 'not an arbor log (bad header)' } };
  }
  if (!buf.subarray(0, WAL_MAGIC.length).equals(WAL_MAGIC)) {
    return { entries, validBytes: 0, problem: { kind: 'corrupt', what: 'not an arbor log (bad header)' } };
  }
  let at = WAL_MAGIC.length;
  while (at < buf.length) {
    const end = recordAt(buf, at);
    if (typeof end !== 'number') return { entries, validBytes: at, problem: badTail(buf, at, end) };
    const p = at + RECORD_HEADER_BYTES;
    if (buf[p] === DELETE) entries.delete(buf.toString('latin1', p + 1, end));
    else entries.set(buf.toString('latin1', p + 9, end), buf.readBigInt64LE(p + 1));
    at = end;
  }
  return { entries, validBytes: at };
}

/** The first bad record is at `at`: a torn tail if one interrupted append explains it, else corruption. */
function badTail(buf: Buffer, at: number, bad: BadRecord): { kind: 'torn' | 'corrupt'; what: string } {
  const rest = buf.subarray(at);
  let written = rest.length;
  while (written > 0 && rest[written - 1] === 0) written--;
  const corrupt = (why: string): { kind: 'corrupt'; what: string } => ({ kind: 'corrupt', what: `${bad.what} at byte ${at}${why}` });
  if (written === 0) return { kind: 'torn', what: `${rest.length} zero bytes` };
  if (bad.checksummed === true) return corrupt('');
  if (!couldBeInterrupted(rest, written)) {
    return corrupt(written > MAX_RECORD_BYTES ? ', with more data after it' : ', not what an interrupted write leaves');
  }
  // Nothing valid may follow: a record that parses further on means the bad one was damaged in
  // place (a changed length can make a record seem to run past the end). `written` is under one
  // record, so this looks at a few hundred offsets at most.
  for (let o = at + 1; o < at + written; o++) {
    if (typeof recordAt(buf, o) === 'number') return corrupt(`, with a valid record after it at byte ${o}`);
  }
  const zeros = rest.length - written;
  return { kind: 'torn', what: bad.cutShort === true || zeros === 0 ? bad.what : `${bad.what}, ending in ${zeros} zero bytes` };
}
