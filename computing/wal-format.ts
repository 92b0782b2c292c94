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
 * Reading tells a torn tail from corruption (etcd's WAL makes the same distinction): a process
 * killed mid-write, or a file cut short, leaves an incomplete or mismatching *last* record (at
 * most one record's bytes, or zeros), which is cut off; a bad record with more data after it
 * means the file was damaged, and reading on, or cutting there, would silently drop
 * acknowledged values, so the log is refused instead.
 */
import { crc32c } from './crc32c.js';

export const WAL_MAGIC = Buffer.from('ARBORWL1', 'latin1');
export const RECORD_HEADER_BYTES = 8;
const PUT = 1;
const DELETE = 2;
const MAX_NAME = 255;
/** The shortest record of all: a delete of a one-byte name. */
const MIN_DELETE_PAYLOAD = 1 + 1;
const MIN_PAYLOAD = 1 + 8 + 1;
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

const allZero = (buf: Buffer, from: number): boolean => {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
};

function isNameByte(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
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
  const torn = (what: string): ScannedLog => ({ entries, validBytes: at, problem: { kind: 'torn', what } });
  const corrupt = (what: string): ScannedLog => ({ entries, validBytes: at, problem: { kind: 'corrupt', what: `${what} at byte ${at}` } });
  while (at < buf.length) {
    const left = buf.length - at;
    if (allZero(buf, at)) return torn(`${left} zero bytes`);
    if (left < RECORD_HEADER_BYTES) return torn(`a partial record header of ${left} bytes`);
    const len = buf.readUInt32LE(at);
    if (len < MIN_DELETE_PAYLOAD || len > MAX_PAYLOAD) return corrupt(`a record length of ${len}`);
    const end = at + RECORD_HEADER_BYTES + len;
    // A plausible length ends within one record's bytes, so only the last record can run past the end.
    if (end > buf.length) return torn(`a partial record (${left} of ${RECORD_HEADER_BYTES + len} bytes)`);
    const crc = buf.readUInt32LE(at + 4);
    if (crc32c(buf, at + RECORD_HEADER_BYTES, end) !== crc) {
      return end === buf.length ? torn('a last record with a bad checksum') : corrupt('a record with a bad checksum, followed by more data,');
    }
    const p = at + RECORD_HEADER_BYTES;
    if (buf[p] === DELETE) {
      for (let i = p + 1; i < end; i++) if (!isNameByte(buf[i] as number)) return corrupt('a name byte outside [A-Za-z0-9]');
      entries.delete(buf.toString('latin1', p + 1, end));
      at = end;
      continue;
    }
    if (buf[p] !== PUT) return corrupt(`a record of unknown type ${buf[p]}`);
    if (len < MIN_PAYLOAD) return corrupt(`a put record length of ${len}`);
    for (let i = p + 9; i < end; i++) if (!isNameByte(buf[i] as number)) return corrupt('a name byte outside [A-Za-z0-9]');
    entries.set(buf.toString('latin1', p + 9, end), buf.readBigInt64LE(p + 1));
    at = end;
  }
  return { entries, validBytes: at };
}
