/**
 * Replication (--replicas 2) without a gateway: the Replicate and ReplicaAck records (round
 * trips, and any bytes decode to a message or a typed error), the control channel's new
 * messages, the chain file, and a leader's log against a real follower in this process over an
 * ipc socket: acknowledgements wait for the follower's copy, a new follower gets a snapshot, and
 * a follower with a newer epoch fences the leader (it acknowledges nothing more).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Follower } from '../../computing/follower.js';
import { chunkOps, followerLate, ReplicatedLog } from '../../computing/replication.js';
import { scanLog } from '../../computing/wal-format.js';
import { NO_LOG } from '../../computing/wal.js';
import { DEFAULT_MAX_NODES } from '../../control/index.js';
import { followerLateMs, parseChainFile, replicaClaim, slotPath } from '../../control/chains.js';
import { parseGatewayArgs } from '../../gateway/args.js';
import { describeNode } from '../../clients/topology-view.js';
import { FollowerState, NodeInfo, NodeState } from '../../proto/gen/arbor/v1/arbor.js';
import {
  decode,
  downlinkSocket,
  encode,
  HEADER_BYTES,
  Kind,
  MAX_RECORD_BYTES,
  type Message,
  parseFromNode,
  parseToNode,
  ProtocolError,
  type ReplicaClaim,
} from '../../link/index.js';

const name = fc.stringMatching(/^[A-Za-z0-9]{1,255}$/);
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const op = fc.oneof(fc.record({ name, value: int64 }), fc.record({ name }));
const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const node = fc.integer({ min: 0, max: 2 ** 31 - 1 });

describe('Replicate and ReplicaAck records', () => {
  it('decode(encode(m)) equals m', () => {
    const replicate: fc.Arbitrary<Message> = fc.record({
      kind: fc.constant('replicate' as const),
      corr: u32,
      node,
      epoch: u32,
      reset: fc.boolean(),
      ops: fc.array(op, { maxLength: 20 }),
    });
    const ack: fc.Arbitrary<Message> = fc.record({ kind: fc.constant('replica-ack' as const), corr: u32, node, epoch: u32, fenced: fc.boolean() });
    fc.assert(
      fc.property(fc.oneof(replicate, ack), (m) => {
        expect(decode(encode(m))).toEqual(m);
      }),
    );
  });

  it('chunkOps: every chunk fits one record, and together they are the ops in order', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 600 }), (ops) => {
        const chunks = chunkOps(ops);
        expect(chunks.flat()).toEqual(ops);
        for (const chunk of chunks) {
          const rec = encode({ kind: 'replicate', corr: 1, node: 1, epoch: 1, reset: false, ops: chunk });
          expect(rec.length).toBeLessThanOrEqual(MAX_RECORD_BYTES);
          expect(decode(rec)).toMatchObject({ ops: chunk });
        }
      }),
      { numRuns: 50 },
    );
  });

  it('bad bodies are typed errors, and any bytes after a Replicate or ReplicaAck header never throw', () => {
    const rec = encode({ kind: 'replicate', corr: 7, node: 3, epoch: 2, reset: false, ops: [{ name: 'a', value: 1n }] });
    const badOp = Buffer.from(rec);
    badOp[HEADER_BYTES + 5] = 3;
    expect((decode(badOp) as ProtocolError).problem).toBe('bad-body');
    const badFlags = Buffer.from(rec);
    badFlags[HEADER_BYTES + 4] = 2;
    expect((decode(badFlags) as ProtocolError).problem).toBe('bad-body');
    const cut = Buffer.from(rec.subarray(0, rec.length - 3));
    cut.writeUInt16LE(cut.length, 0);
    expect((decode(cut) as ProtocolError).problem).toBe('bad-body');
    fc.assert(
      fc.property(fc.constantFrom(Kind.Replicate, Kind.ReplicaAck), fc.uint8Array({ maxLength: 300 }), (kind, body) => {
        const bytes = Buffer.alloc(HEADER_BYTES + body.length);
        bytes.writeUInt16LE(bytes.length, 0);
        bytes[2] = kind;
        Buffer.from(body).copy(bytes, HEADER_BYTES);
        const out = decode(bytes);
        expect(out instanceof ProtocolError || out.kind === 'replicate' || out.kind === 'replica-ack').toBe(true);
      }),
    );
  });
});

describe('the control channel and the chain file', () => {
  it('reads replica messages and the claim fields, and refuses bad ones', () => {
    expect(parseToNode('{"t":"replica","epoch":3,"follower":"ipc:///x/4.copy","solo":false}')).toEqual({ t: 'replica', epoch: 3, follower: 'ipc:///x/4.copy', solo: false });
    expect(parseToNode('{"t":"replica","epoch":3,"follower":null,"solo":true}')).toEqual({ t: 'replica', epoch: 3, follower: null, solo: true });
    expect(parseToNode('{"t":"replica","epoch":-1,"follower":null,"solo":true}')).toMatch(/^replica: expected/);
    expect(parseToNode('{"t":"replica","epoch":1,"follower":5,"solo":true}')).toMatch(/^replica: expected/);
    const claim = { t: 'claim', id: 4, listen: 'ipc:///x/4', log: '/x/4.wal', fresh: false, fsync: false, liveness: { endpoint: 'ipc:///l', blockedLoopMs: 100, restAfterMs: 0 } };
    expect(parseToNode(JSON.stringify({ ...claim, follower: { epoch: 2 } }))).toMatchObject({ follower: { epoch: 2 } });
    expect(parseToNode(JSON.stringify({ ...claim, replica: { epoch: 2, follower: null, solo: false } }))).toMatchObject({ replica: { epoch: 2, follower: null, solo: false } });
    expect(parseToNode(JSON.stringify({ ...claim, follower: { epoch: 'x' } }))).toBe('claim: follower must be {epoch, keep?: true}');
    expect(parseToNode(JSON.stringify({ ...claim, follower: { epoch: 2, keep: true } }))).toMatchObject({ follower: { epoch: 2, keep: true } });
    expect(parseToNode(JSON.stringify({ ...claim, follower: { epoch: 2, keep: 1 } }))).toBe('claim: follower must be {epoch, keep?: true}');
    expect(parseToNode(JSON.stringify({ ...claim, replica: { epoch: 1 } }))).toBe('claim: replica must be {epoch, follower, solo, lateMs?}');
    // Without the new fields a claim reads as before.
    expect(parseToNode(JSON.stringify(claim))).not.toHaveProperty('replica');
    expect(parseFromNode('{"t":"caught-up","epoch":2}')).toEqual({ t: 'caught-up', epoch: 2 });
    expect(parseFromNode('{"t":"fenced","epoch":2}')).toEqual({ t: 'fenced', epoch: 2 });
    expect(parseFromNode('{"t":"fenced"}')).toBe('fenced: expected epoch');
    expect(parseFromNode('{"t":"follower-late","epoch":4}')).toEqual({ t: 'follower-late', epoch: 4 });
    expect(parseFromNode('{"t":"follower-late"}')).toBe('follower-late: expected epoch');
    expect(parseToNode('{"t":"replica","epoch":3,"follower":null,"solo":true,"lateMs":1000}')).toEqual({ t: 'replica', epoch: 3, follower: null, solo: true, lateMs: 1000 });
    expect(parseToNode('{"t":"replica","epoch":3,"follower":null,"solo":true,"lateMs":0}')).toMatch(/^replica: expected/);
  });

  it('the chain file, the slots, and the claim a chain gives', () => {
    expect(parseChainFile('{"epoch":3,"leaderSlot":1}')).toEqual({ epoch: 3, leaderSlot: 1 });
    for (const bad of ['', 'null', '{"epoch":0,"leaderSlot":1}', '{"epoch":2,"leaderSlot":2}', '{"epoch":1.5,"leaderSlot":0}', '[1]']) expect(parseChainFile(bad)).toBeUndefined();
    expect(slotPath('/d/nodes/4.wal', 0)).toBe('/d/nodes/4.wal');
    expect(slotPath('/d/nodes/4.wal', 1)).toBe('/d/nodes/4.copy.wal');
    const chain = { id: 4, epoch: 2, leaderSlot: 0 as const, solo: true, leader: null, keepOn: new Set<string>(), lostOn: null, moving: false };
    expect(replicaClaim({ ...chain, follower: { t: 'starting', since: 0 } })).toEqual({ epoch: 2, follower: null, solo: true });
    expect(replicaClaim({ ...chain, follower: { t: 'none', why: 'x' } })).toEqual({ epoch: 2, follower: null, solo: true });
    expect(replicaClaim({ ...chain, follower: { t: 'none', why: 'x' } }, 500)).toEqual({ epoch: 2, follower: null, solo: true, lateMs: 500 });
  });

  it('tree shows the copy only with --replicas 2 (one copy: the line as before)', () => {
    const node = NodeInfo.fromPartial({ id: 6, pid: 4243, host: 'local', state: NodeState.NODE_STATE_RUNNING, available: true });
    expect(describeNode(node)).toBe('6 (pid 4243)');
    const replica = { epoch: 2, followerState: FollowerState.FOLLOWER_STATE_IN_SYNC, followerPid: 4250, followerHost: 'local', solo: false };
    expect(describeNode({ ...node, replica })).toBe('6 (pid 4243, leads epoch 2, copy pid 4250 in-sync)');
    expect(describeNode({ ...node, replica: { ...replica, followerState: FollowerState.FOLLOWER_STATE_CATCHING_UP, followerHost: 'b', solo: true } })).toBe(
      '6 (pid 4243, leads epoch 2, copy pid 4250 on b catching-up, solo)',
    );
    expect(describeNode({ ...node, replica: { ...replica, followerState: FollowerState.FOLLOWER_STATE_NONE, followerPid: 0 } })).toBe('6 (pid 4243, leads epoch 2, copy none)');
  });

  it('--replicas 1|2 and ARBOR_REPLICAS; the default is 1', () => {
    const run = (argv: string[], env: NodeJS.ProcessEnv = {}): unknown => {
      const parsed = parseGatewayArgs(argv, env);
      return 'run' in parsed ? parsed.run.replicas : 'problem' in parsed ? parsed.problem : parsed;
    };
    expect(run([])).toBe(1);
    expect(run(['--replicas', '2'])).toBe(2);
    expect(run(['--replicas=1'], { ARBOR_REPLICAS: '2' })).toBe(1);
    expect(run([], { ARBOR_REPLICAS: '2' })).toBe(2);
    expect(run(['--replicas', '3'])).toBe('--replicas 3: expected 1 or 2');
  });

  it('--replicas 2 halves the default node limit (two processes a node); a --max-nodes given is a count of nodes', () => {
    const max = (argv: string[]): unknown => {
      const parsed = parseGatewayArgs(argv, {});
      return 'run' in parsed ? parsed.run.maxNodes : parsed;
    };
    expect(max([])).toBe(DEFAULT_MAX_NODES);
    expect(max(['--replicas', '2'])).toBe(Math.max(1, Math.floor(DEFAULT_MAX_NODES / 2)));
    expect(max(['--replicas', '2', '--max-nodes', '40'])).toBe(40);
  });
});

describe('a leader log and its follower, in this process', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  function follower(epoch: number): { endpoint: string; log: string; instance: Follower } {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-repl-unit-'));
    const log = join(dir, '4.copy.wal');
    const endpoint = `ipc://${dir}/4.copy`;
    const instance = new Follower({ id: 4, epoch, log, fresh: true, fsync: false }, downlinkSocket(), (error) => {
      throw error;
    });
    cleanups.push(() => {
      instance.stop();
      instance.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { endpoint, log, instance };
  }

  function leader(entries: Map<string, bigint>, chain: ReplicaClaim): { log: ReplicatedLog; events: { caughtUp: number[]; fenced: number[]; late: number[] } } {
    const events = { caughtUp: [] as number[], fenced: [] as number[], late: [] as number[] };
    const log = new ReplicatedLog(4, NO_LOG, entries, false, chain, {
      caughtUp: (e) => events.caughtUp.push(e),
      fenced: (e) => events.fenced.push(e),
      late: (e) => events.late.push(e),
      drop: () => undefined,
    });
    cleanups.push(() => log.close());
    return { log, events };
  }

  /** Applies a store as the dictionary does: the map first, then the log. */
  const store = (entries: Map<string, bigint>, log: ReplicatedLog, key: string, value: bigint): void => {
    const isNew = !entries.has(key);
    entries.set(key, value);
    log.append(key, value, isNew);
  };

  it('a store is durable only once the follower logged it; a new follower first gets a snapshot', async () => {
    const f = follower(1);
    await f.instance.bind(f.endpoint);
    void f.instance.run();
    const entries = new Map<string, bigint>([['before', 5n]]);
    // Not solo, no follower yet: nothing is acknowledged.
    const { log, events } = leader(entries, { epoch: 1, follower: null, solo: false });
    store(entries, log, 'a', 1n);
    expect(log.flush()).toBeUndefined();
    let durable = false;
    log.whenDurable(() => (durable = true));
    expect(durable).toBe(false);
    expect(log.unsynced).toBe(true);
    // The follower is given: the snapshot holds both names, and the wait ends with its ack.
    log.set({ epoch: 1, follower: f.endpoint, solo: false });
    await vi.waitFor(() => expect(durable).toBe(true), { timeout: 5000, interval: 5 });
    expect(events.caughtUp).toEqual([1]);
    expect(scanLog(readFileSync(f.log)).entries).toEqual(new Map([['before', 5n], ['a', 1n]]));
    // Later stores and deletes follow, each acknowledged after the follower's ack.
    store(entries, log, 'b', 2n);
    entries.delete('before');
    log.appendDelete('before');
    log.flush();
    let second = false;
    log.whenDurable(() => (second = true));
    expect(second).toBe(false);
    await vi.waitFor(() => expect(second).toBe(true), { timeout: 5000, interval: 5 });
    expect(log.unsynced).toBe(false);
    expect(scanLog(readFileSync(f.log)).entries).toEqual(new Map([['a', 1n], ['b', 2n]]));
  });

  it('a follower that stops acknowledging is reported late once, after lateMs; a new one given starts the count again', async () => {
    // Bound but never reading: a frozen follower, as the leader sees it.
    const frozen = follower(1);
    await frozen.instance.bind(frozen.endpoint);
    const entries = new Map<string, bigint>();
    const startedAt = performance.now();
    const { log, events } = leader(entries, { epoch: 1, follower: frozen.endpoint, solo: false, lateMs: 100 });
    store(entries, log, 'a', 1n);
    log.flush();
    let durable = false;
    log.whenDurable(() => (durable = true));
    await vi.waitFor(() => expect(events.late).toEqual([1]), { timeout: 5000, interval: 5 });
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(100);
    expect(durable).toBe(false);
    // The control's answer: a new epoch, solo, no follower; the wait ends with one copy.
    log.set({ epoch: 2, follower: null, solo: true, lateMs: 100 });
    expect(durable).toBe(true);
    // A live follower given next catches up and is not reported.
    const live = follower(2);
    await live.instance.bind(live.endpoint);
    void live.instance.run();
    log.set({ epoch: 2, follower: live.endpoint, solo: true, lateMs: 100 });
    await vi.waitFor(() => expect(events.caughtUp).toEqual([2]), { timeout: 5000, interval: 5 });
    expect(events.late).toEqual([1]);
  });

  it('followerLate and followerLateMs', () => {
    expect(followerLate(false, 0, 10_000, 100)).toBe(false);
    expect(followerLate(true, 0, 99, 100)).toBe(false);
    expect(followerLate(true, 0, 100, 100)).toBe(true);
    expect(followerLateMs(2000)).toBe(1000);
    expect(followerLateMs(50)).toBe(100);
    // With heartbeats on, at most 4 intervals (a cut follower holds stores no longer than a cut node is noticed).
    expect(followerLateMs(2000, 100)).toBe(400);
    expect(followerLateMs(2000, 1000)).toBe(1000);
    expect(followerLateMs(2000, 10)).toBe(100);
    expect(followerLateMs(2000, 0)).toBe(1000);
  });

  it('solo (said by the control): acknowledged with one copy at once', () => {
    const entries = new Map<string, bigint>();
    const { log } = leader(entries, { epoch: 2, follower: null, solo: true });
    store(entries, log, 'a', 1n);
    log.flush();
    let durable = false;
    log.whenDurable(() => (durable = true));
    expect(durable).toBe(true);
    expect(log.unsynced).toBe(false);
  });

  it('fencing: a follower of a newer epoch refuses the records; the leader acknowledges nothing more', async () => {
    const f = follower(5);
    await f.instance.bind(f.endpoint);
    void f.instance.run();
    const entries = new Map<string, bigint>();
    const { log, events } = leader(entries, { epoch: 3, follower: f.endpoint, solo: false });
    store(entries, log, 'late', 9n);
    log.flush();
    let durable = false;
    log.whenDurable(() => (durable = true));
    await vi.waitFor(() => expect(events.fenced).toEqual([3]), { timeout: 5000, interval: 5 });
    expect(durable).toBe(false);
    expect(log.unsynced).toBe(true);
    // Even told solo at its old epoch, a fenced leader acknowledges nothing.
    log.set({ epoch: 3, follower: null, solo: true });
    store(entries, log, 'later', 10n);
    log.flush();
    let after = false;
    log.whenDurable(() => (after = true));
    expect(after).toBe(false);
    expect(events.caughtUp).toEqual([]);
    expect(scanLog(readFileSync(f.log)).entries.size).toBe(0);
  });
});
