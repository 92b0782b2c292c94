/**
 * @module The wire format between the control and the computing processes, defined once.
 *
 * A ZeroMQ message carries one frame holding one or more records, so a link can batch every
 * record of one event-loop turn into one message. Each record starts with the same header:
 *
 *   u16 length (whole record, header included) | u8 kind | u32 corr | i32 node
 *
 * so a forwarding node reads `node` and passes the record's bytes on without decoding the body.
 * Little-endian throughout. `corr` correlates a reply with its request; `node` is the target
 * of a request, the node a reply is about, or the node saying hello.
 */

export const HEADER_BYTES = 11;
/** The u16 length field's limit (a store of the longest name is far below it). */
export const MAX_RECORD_BYTES = 0xffff;

export const Kind = {
  /** control → node: store `value` under `name`. Body: i64 value, name bytes. */
  Store: 1,
  /** control → node: load `name`. Body: name bytes. */
  Load: 2,
  /** control → node: answer if alive. No body. */
  Ping: 3,
  /**
   * node → parent, relayed up to the control: "I am connected here" (answers a link). Body: i32
   * pid, u32 keys (the names its dictionary holds then, for Topology's count).
   */
  Hello: 4,
  /**
   * node → control: result of a store or load. Body: u8 flags (bit 0 found; bit 1 added: the
   * store made a new name, so the control's key count stays current without asking), i64 value.
   */
  Value: 5,
  /** node → control: answer to a ping. No body. */
  Pong: 6,
  /** node → control: the request could not be delivered, or (DiskFull) not carried out. Body: u8 reason. */
  Fail: 7,
  // 8 was a heartbeat relayed up the tree; liveness has its own link now (liveness.ts). Not reused.
  /**
   * control → node: list names. Body: u16 limit, u8 prefix length, prefix bytes, start_after
   * bytes (the rest; empty: from the first name). Answered by one KeysPage.
   */
  Keys: 9,
  /**
   * node → control: the answer to a Keys. Body: u8 flags (bit 0 more: names match after the
   * last entry), u64 revision (changes with every store or delete of the node), then entries
   * of u8 name length, name bytes, i64 value, ascending by name bytes. One record holds at most
   * `limit` entries and what fits in the u16 length (KEYS_PAGE_ROOM): the control asks again
   * from the last name for the rest of a page, so a reply is always one record.
   */
  KeysPage: 10,
  /**
   * control → node: delete `name`. Body: name bytes. Answered by a Value record: found = the
   * name had a value (the value it had; now gone), added = false.
   */
  Delete: 11,
  /**
   * leader → its follower (--replicas 2, replication.ts): the stores and deletes of one log
   * append, `corr` their sequence number. Body: u32 epoch, u8 flags (bit 0 reset: the first
   * record of a snapshot, the follower empties its copy first), then ops of u8 op (1 put, 2
   * delete), u8 name length, name bytes, and for a put i64 value. Never relayed by the tree.
   */
  Replicate: 12,
  /**
   * follower → its leader: every Replicate up to `corr` is in the follower's log (the write(2)
   * rule, or the disk's with --fsync). Body: u32 epoch (the follower's), u8 flags (bit 0 fenced:
   * the Replicate carried an older epoch than the follower's and was not applied).
   */
  ReplicaAck: 13,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export const FailReason = {
  /** The next hop towards the target is not connected. */
  NoRoute: 1,
  /** The next hop refused the message (gone, or its queue is full). */
  Undeliverable: 2,
  /** The target could not store: its disk has no room for the log's append (it still serves loads). */
  DiskFull: 3,
} as const;
export type FailReason = (typeof FailReason)[keyof typeof FailReason];

export type Message =
  | { kind: 'store'; corr: number; node: number; name: string; value: bigint }
  | { kind: 'load'; corr: number; node: number; name: string }
  | { kind: 'ping'; corr: number; node: number }
  | { kind: 'hello'; corr: number; node: number; pid: number; keys: number }
  | { kind: 'value'; corr: number; node: number; found: boolean; added: boolean; value: bigint }
  | { kind: 'pong'; corr: number; node: number }
  | { kind: 'fail'; corr: number; node: number; reason: FailReason }
  | { kind: 'keys'; corr: number; node: number; limit: number; prefix: string; startAfter: string }
  | { kind: 'keys-page'; corr: number; node: number; more: boolean; revision: bigint; entries: KeyEntry[] }
  | { kind: 'delete'; corr: number; node: number; name: string }
  | { kind: 'replicate'; corr: number; node: number; epoch: number; reset: boolean; ops: ReplicaOp[] }
  | { kind: 'replica-ack'; corr: number; node: number; epoch: number; fenced: boolean };

/** One change a Replicate carries: a put of `value`, or a delete (value absent). */
export interface ReplicaOp {
  name: string;
  value?: bigint;
}
/** The bytes one op takes in a Replicate. */
export const replicaOpBytes = (op: ReplicaOp): number => 2 + op.name.length + (op.value === undefined ? 0 : 8);
/** The body bytes a Replicate has for ops (the record's u16 length bounds it). */
export const REPLICATE_ROOM = MAX_RECORD_BYTES - HEADER_BYTES - 5;

/** One name and its value in a KeysPage. */
export interface KeyEntry {
  name: string;
  value: bigint;
}

/** The body bytes a KeysPage has for entries (the record's u16 length bounds it). */
export const KEYS_PAGE_ROOM = MAX_RECORD_BYTES - HEADER_BYTES - 9;
/** The bytes one entry of a KeysPage takes. */
export const keyEntryBytes = (name: string): number => 1 + name.length + 8;
/** The most entries one Keys may ask for (a u16; the API's own limit is lower). */
export const MAX_KEYS_LIMIT = 0xffff;

/** A frame or record that does not follow the format. Never thrown: returned, so a bad frame is dropped, not fatal. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(readonly problem: 'truncated' | 'bad-length' | 'unknown-kind' | 'bad-body', detail: string) {
    super(`${problem}: ${detail}`);
  }
}

const MAX_NAME = 255;

/**
 * i64 fields through one 8-byte scratch: Node's `writeBigInt64LE` splits the value with BigInt
 * arithmetic (several BigInts allocated per call) and `readBigInt64LE` builds it from two halves,
 * while a BigInt64Array element converts in one step; every store and every reply has one. The
 * scratch's byte order is the machine's, so a big-endian machine keeps Node's methods.
 */
const SCRATCH = new BigInt64Array(1);
const SCRATCH_BYTES = new Uint8Array(SCRATCH.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

function writeI64(buf: Buffer, value: bigint, at: number): void {
  // The element would wrap an out-of-range value silently; Node's method throws, and so does this.
  if (!LITTLE_ENDIAN || value < I64_MIN || value > I64_MAX || at < 0 || at + 8 > buf.length) {
    buf.writeBigInt64LE(value, at);
    return;
  }
  SCRATCH[0] = value;
  for (let i = 0; i < 8; i++) buf[at + i] = SCRATCH_BYTES[i] as number;
}

function readI64(buf: Buffer, at: number): bigint {
  if (!LITTLE_ENDIAN || at < 0 || at + 8 > buf.length) return buf.readBigInt64LE(at);
  for (let i = 0; i < 8; i++) SCRATCH_BYTES[i] = buf[at + i] as number;
  return SCRATCH[0] as bigint;
}

/** A record of `bodyBytes` bytes after the header, with the header written. */
function record(kind: Kind, corr: number, node: number, bodyBytes: number): Buffer {
  const length = HEADER_BYTES + bodyBytes;
  const buf = Buffer.allocUnsafe(length);
  buf.writeUInt16LE(length, 0);
  buf.writeUInt8(kind, 2);
  buf.writeUInt32LE(corr >>> 0, 3);
  buf.writeInt32LE(node, 7);
  return buf;
}

/** Encodes one record. The caller passes valid fields (the gateway validated them). */
export function encode(msg: Message): Buffer {
  const { corr, node } = msg;
  switch (msg.kind) {
    case 'store': {
      const buf = record(Kind.Store, corr, node, 8 + msg.name.length);
      writeI64(buf, msg.value, HEADER_BYTES);
      buf.write(msg.name, HEADER_BYTES + 8, 'latin1');
      return buf;
    }
    case 'load': {
      const buf = record(Kind.Load, corr, node, msg.name.length);
      buf.write(msg.name, HEADER_BYTES, 'latin1');
      return buf;
    }
    case 'ping':
      return record(Kind.Ping, corr, node, 0);
    case 'pong':
      return record(Kind.Pong, corr, node, 0);
    case 'hello': {
      const buf = record(Kind.Hello, corr, node, 8);
      buf.writeInt32LE(msg.pid, HEADER_BYTES);
      buf.writeUInt32LE(msg.keys >>> 0, HEADER_BYTES + 4);
      return buf;
    }
    case 'value': {
      const buf = record(Kind.Value, corr, node, 9);
      buf.writeUInt8((msg.found ? 1 : 0) | (msg.added ? 2 : 0), HEADER_BYTES);
      writeI64(buf, msg.value, HEADER_BYTES + 1);
      return buf;
    }
    case 'fail': {
      const buf = record(Kind.Fail, corr, node, 1);
      buf.writeUInt8(msg.reason, HEADER_BYTES);
      return buf;
    }
    case 'keys': {
      const buf = record(Kind.Keys, corr, node, 3 + msg.prefix.length + msg.startAfter.length);
      buf.writeUInt16LE(msg.limit, HEADER_BYTES);
      buf.writeUInt8(msg.prefix.length, HEADER_BYTES + 2);
      buf.write(msg.prefix, HEADER_BYTES + 3, 'latin1');
      buf.write(msg.startAfter, HEADER_BYTES + 3 + msg.prefix.length, 'latin1');
      return buf;
    }
    case 'keys-page': {
      let bytes = 9;
      for (const entry of msg.entries) bytes += keyEntryBytes(entry.name);
      const buf = record(Kind.KeysPage, corr, node, bytes);
      buf.writeUInt8(msg.more ? 1 : 0, HEADER_BYTES);
      buf.writeBigUInt64LE(msg.revision, HEADER_BYTES + 1);
      let at = HEADER_BYTES + 9;
      for (const { name, value } of msg.entries) {
        buf.writeUInt8(name.length, at);
        buf.write(name, at + 1, 'latin1');
        writeI64(buf, value, at + 1 + name.length);
        at += keyEntryBytes(name);
      }
      return buf;
    }
    case 'delete': {
      const buf = record(Kind.Delete, corr, node, msg.name.length);
      buf.write(msg.name, HEADER_BYTES, 'latin1');
      return buf;
    }
    case 'replicate': {
      let bytes = 5;
      for (const op of msg.ops) bytes += replicaOpBytes(op);
      const buf = record(Kind.Replicate, corr, node, bytes);
      buf.writeUInt32LE(msg.epoch >>> 0, HEADER_BYTES);
      buf.writeUInt8(msg.reset ? 1 : 0, HEADER_BYTES + 4);
      let at = HEADER_BYTES + 5;
      for (const op of msg.ops) {
        buf.writeUInt8(op.value === undefined ? 2 : 1, at);
        buf.writeUInt8(op.name.length, at + 1);
        buf.write(op.name, at + 2, 'latin1');
        if (op.value !== undefined) writeI64(buf, op.value, at + 2 + op.name.length);
        at += replicaOpBytes(op);
      }
      return buf;
    }
    case 'replica-ack': {
      const buf = record(Kind.ReplicaAck, corr, node, 5);
      buf.writeUInt32LE(msg.epoch >>> 0, HEADER_BYTES);
      buf.writeUInt8(msg.fenced ? 1 : 0, HEADER_BYTES + 4);
      return buf;
    }
  }
}

/** Header fields of a record that {@link splitFrame} produced (so its header is known complete). */
export const recordKind = (rec: Buffer): number => rec[2] as number;
export const recordCorr = (rec: Buffer): number => rec.readUInt32LE(3);
export const recordNode = (rec: Buffer): number => rec.readInt32LE(7);

/**
 * Calls `visit` with each record of a frame (views into it, no copies). Stops at the first
 * malformed length and returns the error; records before it were already visited, which is
 * safe because each record is self-contained.
 */
export function splitFrame(frame: Buffer, visit: (record: Buffer) => void): ProtocolError | undefined {
  let at = 0;
  while (at < frame.length) {
    if (frame.length - at < HEADER_BYTES) return new ProtocolError('truncated', `${frame.length - at} bytes left, header needs ${HEADER_BYTES}`);
    const len = frame.readUInt16LE(at);
    if (len < HEADER_BYTES || len > MAX_RECORD_BYTES) return new ProtocolError('bad-length', `record length ${len}`);
    if (at + len > frame.length) return new ProtocolError('truncated', `record of ${len} bytes, ${frame.length - at} left`);
    // A frame of one record (every frame at one request in flight) is that record: no view made.
    visit(len === frame.length ? frame : frame.subarray(at, at + len));
    at += len;
  }
  return undefined;
}

function isNameByte(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function readName(rec: Buffer, from: number, to = rec.length, minBytes = 1): string | ProtocolError {
  const len = to - from;
  if (len < minBytes || len > MAX_NAME) return new ProtocolError('bad-body', `name of ${len} bytes`);
  for (let i = from; i < to; i++) {
    if (!isNameByte(rec[i] as number)) return new ProtocolError('bad-body', 'name byte outside [A-Za-z0-9]');
  }
  return rec.toString('latin1', from, to);
}

function decodeKeys(rec: Buffer, corr: number, node: number): Message | ProtocolError {
  if (rec.length < HEADER_BYTES + 3) return new ProtocolError('bad-body', `keys record of ${rec.length} bytes`);
  const prefixEnd = HEADER_BYTES + 3 + (rec[HEADER_BYTES + 2] as number);
  if (prefixEnd > rec.length) return new ProtocolError('bad-body', 'keys prefix runs past the record');
  const prefix = readName(rec, HEADER_BYTES + 3, prefixEnd, 0);
  if (prefix instanceof ProtocolError) return prefix;
  const startAfter = readName(rec, prefixEnd, rec.length, 0);
  if (startAfter instanceof ProtocolError) return startAfter;
  return { kind: 'keys', corr, node, limit: rec.readUInt16LE(HEADER_BYTES), prefix, startAfter };
}

function decodeKeysPage(rec: Buffer, corr: number, node: number): Message | ProtocolError {
  if (rec.length < HEADER_BYTES + 9) return new ProtocolError('bad-body', `keys-page record of ${rec.length} bytes`);
  const flags = rec[HEADER_BYTES] as number;
  if (flags > 1) return new ProtocolError('bad-body', `keys-page flags ${flags}`);
  const entries: KeyEntry[] = [];
  let at = HEADER_BYTES + 9;
  while (at < rec.length) {
    const end = at + 1 + (rec[at] as number) + 8;
    if (end > rec.length) return new ProtocolError('bad-body', 'keys-page entry runs past the record');
    const name = readName(rec, at + 1, end - 8);
    if (name instanceof ProtocolError) return name;
    entries.push({ name, value: readI64(rec, end - 8) });
    at = end;
  }
  return { kind: 'keys-page', corr, node, more: flags === 1, revision: rec.readBigUInt64LE(HEADER_BYTES + 1), entries };
}

function decodeReplicate(rec: Buffer, corr: number, node: number): Message | ProtocolError {
  if (rec.length < HEADER_BYTES + 5) return new ProtocolError('bad-body', `replicate record of ${rec.length} bytes`);
  const flags = rec[HEADER_BYTES + 4] as number;
  if (flags > 1) return new ProtocolError('bad-body', `replicate flags ${flags}`);
  const ops: ReplicaOp[] = [];
  let at = HEADER_BYTES + 5;
  while (at < rec.length) {
    if (rec.length - at < 2) return new ProtocolError('bad-body', 'replicate op runs past the record');
    const op = rec[at] as number;
    if (op !== 1 && op !== 2) return new ProtocolError('bad-body', `replicate op ${op}`);
    const nameEnd = at + 2 + (rec[at + 1] as number);
    const end = nameEnd + (op === 1 ? 8 : 0);
    if (end > rec.length) return new ProtocolError('bad-body', 'replicate op runs past the record');
    const name = readName(rec, at + 2, nameEnd);
    if (name instanceof ProtocolError) return name;
    ops.push(op === 1 ? { name, value: readI64(rec, nameEnd) } : { name });
    at = end;
  }
  return { kind: 'replicate', corr, node, epoch: rec.readUInt32LE(HEADER_BYTES), reset: flags === 1, ops };
}

function expectBody(rec: Buffer, bytes: number, kind: string): ProtocolError | undefined {
  return rec.length === HEADER_BYTES + bytes ? undefined : new ProtocolError('bad-body', `${kind} record of ${rec.length} bytes`);
}

/** Decodes one record fully. Any bytes give a message or a ProtocolError, never a throw. */
export function decode(rec: Buffer): Message | ProtocolError {
  if (rec.length < HEADER_BYTES) return new ProtocolError('truncated', `record of ${rec.length} bytes`);
  if (rec.readUInt16LE(0) !== rec.length) return new ProtocolError('bad-length', `length field ${rec.readUInt16LE(0)} for ${rec.length} bytes`);
  const kind = recordKind(rec);
  const corr = recordCorr(rec);
  const node = recordNode(rec);
  switch (kind) {
    case Kind.Store: {
      if (rec.length < HEADER_BYTES + 9) return new ProtocolError('bad-body', `store record of ${rec.length} bytes`);
      const name = readName(rec, HEADER_BYTES + 8);
      if (name instanceof ProtocolError) return name;
      return { kind: 'store', corr, node, name, value: readI64(rec, HEADER_BYTES) };
    }
    case Kind.Load: {
      const name = readName(rec, HEADER_BYTES);
      if (name instanceof ProtocolError) return name;
      return { kind: 'load', corr, node, name };
    }
    case Kind.Ping:
      return expectBody(rec, 0, 'ping') ?? { kind: 'ping', corr, node };
    case Kind.Pong:
      return expectBody(rec, 0, 'pong') ?? { kind: 'pong', corr, node };
    case Kind.Hello:
      return expectBody(rec, 8, 'hello') ?? { kind: 'hello', corr, node, pid: rec.readInt32LE(HEADER_BYTES), keys: rec.readUInt32LE(HEADER_BYTES + 4) };
    case Kind.Value: {
      const bad = expectBody(rec, 9, 'value');
      if (bad) return bad;
      const flags = rec[HEADER_BYTES] as number;
      if (flags > 3) return new ProtocolError('bad-body', `value flags ${flags}`);
      return { kind: 'value', corr, node, found: (flags & 1) === 1, added: (flags & 2) === 2, value: readI64(rec, HEADER_BYTES + 1) };
    }
    case Kind.Fail: {
      const bad = expectBody(rec, 1, 'fail');
      if (bad) return bad;
      const reason = rec[HEADER_BYTES] as number;
      if (reason !== FailReason.NoRoute && reason !== FailReason.Undeliverable && reason !== FailReason.DiskFull) return new ProtocolError('bad-body', `fail reason ${reason}`);
      return { kind: 'fail', corr, node, reason };
    }
    case Kind.Keys:
      return decodeKeys(rec, corr, node);
    case Kind.KeysPage:
      return decodeKeysPage(rec, corr, node);
    case Kind.Delete: {
      const name = readName(rec, HEADER_BYTES);
      if (name instanceof ProtocolError) return name;
      return { kind: 'delete', corr, node, name };
    }
    case Kind.Replicate:
      return decodeReplicate(rec, corr, node);
    case Kind.ReplicaAck: {
      const bad = expectBody(rec, 5, 'replica-ack');
      if (bad) return bad;
      const flags = rec[HEADER_BYTES + 4] as number;
      if (flags > 1) return new ProtocolError('bad-body', `replica-ack flags ${flags}`);
      return { kind: 'replica-ack', corr, node, epoch: rec.readUInt32LE(HEADER_BYTES), fenced: flags === 1 };
    }
    default:
      return new ProtocolError('unknown-kind', `kind ${kind}`);
  }
}
