/**
 * The client library's own logic, without a gateway: the error mapping onto the closed set of
 * codes, the generated messages as public shapes, and `ArborSession`'s queue against a fake
 * Session stream (what goes onto the stream stays bounded however many calls are made, each call
 * is settled by its own reply, a call's own signal or deadline settles it early). The real
 * transport is covered by test/integration/client-package.test.ts.
 */
import { EventEmitter } from 'node:events';
import { Metadata, status, type ClientDuplexStream } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ARBOR_ERROR_CODES, ArborError } from '../../clients/lib/index.js';
import { toNodeEvent, toTopology } from '../../clients/lib/convert.js';
import { codeOfStatus, fromServiceError } from '../../clients/lib/errors.js';
import { ArborSession, MAX_SENT } from '../../clients/lib/session.js';
import { NodeEventKind, NodeState, type SessionRequest, type SessionResponse, type SessionResult } from '../../proto/gen/arbor/v1/arbor.js';

describe('ArborError codes', () => {
  it('maps every gRPC status number into the closed set', () => {
    fc.assert(fc.property(fc.integer({ min: -5, max: 100 }), (code) => ARBOR_ERROR_CODES.includes(codeOfStatus(code))));
  });

  it('names the API statuses as the issue says', () => {
    expect(codeOfStatus(status.NOT_FOUND)).toBe('not-found');
    expect(codeOfStatus(status.ALREADY_EXISTS)).toBe('already-exists');
    expect(codeOfStatus(status.UNAVAILABLE)).toBe('unavailable');
    expect(codeOfStatus(status.INVALID_ARGUMENT)).toBe('invalid-argument');
    expect(codeOfStatus(status.FAILED_PRECONDITION)).toBe('invalid-argument');
    expect(codeOfStatus(status.DEADLINE_EXCEEDED)).toBe('deadline-exceeded');
    expect(codeOfStatus(status.CANCELLED)).toBe('cancelled');
    expect(codeOfStatus(status.UNAUTHENTICATED)).toBe('unauthenticated');
    expect(codeOfStatus(status.RESOURCE_EXHAUSTED)).toBe('resource-exhausted');
    expect(codeOfStatus(status.INTERNAL)).toBe('internal');
    expect(codeOfStatus(status.UNKNOWN)).toBe('internal');
  });

  it('takes the reason from the arbor-reason trailer and keeps the grpc-js error as its cause', () => {
    const metadata = new Metadata();
    metadata.set('arbor-reason', 'node 50 above it does not answer');
    const grpcError = Object.assign(new Error('14 UNAVAILABLE: Node is unavailable'), { code: status.UNAVAILABLE, details: 'Node is unavailable', metadata });
    const error = fromServiceError(grpcError, 60);
    expect(error).toBeInstanceOf(ArborError);
    expect(error).toMatchObject({ code: 'unavailable', message: 'Node is unavailable', reason: 'node 50 above it does not answer', nodeId: 60, grpcStatus: status.UNAVAILABLE });
    expect(error.cause).toBe(grpcError);
  });
});

describe('public shapes', () => {
  it('turns a node event into a plain object with a string kind, and skips kinds it does not know', () => {
    const time = new Date(1000);
    expect(toNodeEvent({ id: 3, kind: NodeEventKind.NODE_EVENT_KIND_EXITED, time, reason: 'its process was killed by SIGKILL', signal: 'SIGKILL' })).toEqual({
      id: 3,
      kind: 'exited',
      time,
      reason: 'its process was killed by SIGKILL',
      signal: 'SIGKILL',
    });
    expect(toNodeEvent({ id: 3, kind: 99 as NodeEventKind, time, reason: '' })).toBeUndefined();
    expect(toNodeEvent(undefined)).toBeUndefined();
  });

  it('turns a topology into plain objects, absent links left out', () => {
    const node = { id: 1, parent: undefined, left: undefined, right: 2, pid: 10, depth: 0, available: true, state: NodeState.NODE_STATE_RUNNING, restarts: 0, reason: '', keys: 3, host: 'local', readOnly: '' };
    expect(toTopology({ nodes: [node], root: 1, heartbeatIntervalMs: 0, balanced: true, depthBound: 0 })).toEqual({
      nodes: [{ id: 1, right: 2, pid: 10, depth: 0, available: true, state: 'running', restarts: 0, reason: '', keys: 3, host: 'local', readOnly: '' }],
      root: 1,
      heartbeatIntervalMs: 0,
      balanced: true,
      depthBound: 0,
    });
  });
});

/** Just enough of a grpc-js client stream: records writes; `full` makes `write()` say so until `drain()`. */
class FakeStream extends EventEmitter {
  readonly writes: SessionRequest[] = [];
  full = false;
  ended = false;
  write(request: SessionRequest): boolean {
    this.writes.push(request);
    return !this.full;
  }
  drain(): void {
    this.full = false;
    this.emit('drain');
  }
  end(): void {
    this.ended = true;
    this.emit('end');
  }
  cancel(): void {
    this.emit('error', Object.assign(new Error('1 CANCELLED: Cancelled on client'), { code: status.CANCELLED, details: 'Cancelled on client' }));
  }
  get written(): number {
    return this.writes.reduce((sum, w) => sum + w.commands.length, 0);
  }
  /** Writes answered so far (every command of a write is answered at once). */
  private answeredWrites = 0;
  /** Plays the gateway: answers every command written so far and not yet answered (a load of `k<i>` finds i). */
  answerAll(answered: Set<bigint>): void {
    const results: SessionResult[] = [];
    for (const { commands } of this.writes.slice(this.answeredWrites)) {
      for (const { tag, command } of commands) {
        if (answered.has(tag) || command === undefined) continue;
        answered.add(tag);
        if (command.$case === 'exec') {
          const { id, name } = command.value;
          results.push({ tag, result: { $case: 'exec', value: { id, name, found: true, value: BigInt(name.slice(1)) } } });
        } else if (command.$case === 'ping') {
          results.push({ tag, result: { $case: 'error', value: { code: status.NOT_FOUND, message: `Node with id ${command.value.id} doesn't exist`, reason: 'no such node' } } });
        }
      }
    }
    this.answeredWrites = this.writes.length;
    if (results.length > 0) this.emit('data', { results });
  }
}

/** A few event-loop turns: a call is queued, pumped (a microtask), then written (the next turn). */
async function turn(): Promise<void> {
  for (let i = 0; i < 3; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

function session(stream: FakeStream, signal?: AbortSignal): ArborSession {
  return new ArborSession(stream as unknown as ClientDuplexStream<SessionRequest, SessionResponse>, 'fake:1', { signal });
}

describe('ArborSession', () => {
  it('streams 100,000 await-free calls with at most MAX_SENT on the stream, each settled by its own reply', { timeout: 30_000 }, async () => {
    const stream = new FakeStream();
    const s = session(stream);
    const loads = Array.from({ length: 100_000 }, (_, i) => s.load(7, `k${i}`));
    await turn();
    expect(stream.written).toBe(MAX_SENT);
    expect(s.queued).toBe(100_000 - MAX_SENT);
    const answered = new Set<bigint>();
    let mostOnTheStream = 0;
    while (answered.size < 100_000) {
      mostOnTheStream = Math.max(mostOnTheStream, stream.written - answered.size);
      stream.answerAll(answered);
      await turn();
    }
    expect(mostOnTheStream).toBe(MAX_SENT);
    const values = await Promise.all(loads);
    expect(values.every((value, i) => value === BigInt(i))).toBe(true);
    expect(s.inFlight).toBe(0);
    expect(s.queued).toBe(0);
  });

  it('writes nothing more while the stream is full, and goes on after its drain', async () => {
    const stream = new FakeStream();
    stream.full = true;
    const s = session(stream);
    const first = s.load(1, 'k1');
    await turn();
    expect(stream.written).toBe(1);
    const second = s.load(1, 'k2');
    await turn();
    expect(stream.written).toBe(1);
    expect(s.queued).toBe(1);
    stream.drain();
    await turn();
    expect(stream.written).toBe(2);
    stream.answerAll(new Set());
    expect([await first, await second]).toEqual([1n, 2n]);
  });

  it('rejects a failed command with its code, reason and node', async () => {
    const stream = new FakeStream();
    const s = session(stream);
    const pinged = s.ping(9);
    await turn();
    stream.answerAll(new Set());
    await expect(pinged).rejects.toMatchObject({ name: 'ArborError', code: 'not-found', reason: 'no such node', nodeId: 9, grpcStatus: status.NOT_FOUND });
  });

  it('settles a call early on its own signal or deadline; a queued call is then never sent', async () => {
    const stream = new FakeStream();
    stream.full = true;
    const s = session(stream);
    const sent = s.load(1, 'k1');
    await turn();
    const controller = new AbortController();
    const aborted = s.load(1, 'k2', { signal: controller.signal });
    const late = s.load(1, 'k3', { timeoutMs: 5 });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'cancelled', nodeId: 1 });
    await expect(late).rejects.toMatchObject({ code: 'deadline-exceeded', nodeId: 1 });
    stream.drain();
    await turn();
    expect(stream.written).toBe(1);
    stream.answerAll(new Set());
    expect(await sent).toBe(1n);
  });

  it('refuses bad arguments before sending anything', async () => {
    const stream = new FakeStream();
    const s = session(stream);
    await expect(s.store(1, 'a', 1 as unknown as bigint)).rejects.toMatchObject({ code: 'invalid-argument', nodeId: 1 });
    await expect(s.store(1, 'a', 2n ** 63n)).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(s.ping(-1)).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(s.heartbeat(5)).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(s.ping(1, { timeoutMs: 0 })).rejects.toMatchObject({ code: 'invalid-argument' });
    await turn();
    expect(stream.written).toBe(0);
  });

  it('rejects everything pending with the stream failure, as an ArborError', async () => {
    const stream = new FakeStream();
    stream.full = true;
    const s = session(stream);
    const sent = s.ping(1);
    await turn();
    const queued = s.ping(2);
    stream.emit('error', Object.assign(new Error('14 UNAVAILABLE: Connection dropped'), { code: status.UNAVAILABLE, details: 'Connection dropped' }));
    await expect(sent).rejects.toMatchObject({ name: 'ArborError', code: 'unavailable', nodeId: 1 });
    await expect(queued).rejects.toMatchObject({ name: 'ArborError', code: 'unavailable', nodeId: 2 });
    await expect(s.ping(3)).rejects.toMatchObject({ code: 'unavailable' });
  });

  it("cancels on the session's signal: what is pending rejects with 'cancelled'", async () => {
    const stream = new FakeStream();
    const controller = new AbortController();
    const s = session(stream, controller.signal);
    const pending = s.ping(1);
    await turn();
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'cancelled', nodeId: 1 });
    await expect(s.ping(2)).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('close() waits for every call made so far, then ends the stream', async () => {
    const stream = new FakeStream();
    const s = session(stream);
    const load = s.load(1, 'k5');
    const closed = s.close();
    await turn();
    expect(stream.ended).toBe(false);
    stream.answerAll(new Set());
    await closed;
    expect(stream.ended).toBe(true);
    expect(await load).toBe(5n);
    await expect(s.ping(1)).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('hands the events sent with tag 0 to onEvent, and tells onLost once when the stream fails by itself', async () => {
    const stream = new FakeStream();
    const events: unknown[] = [];
    const lost: ArborError[] = [];
    const s = new ArborSession(stream as unknown as ClientDuplexStream<SessionRequest, SessionResponse>, 'fake:1', {
      onEvent: (event) => events.push(event),
      onLost: (error) => lost.push(error),
    });
    const time = new Date(5);
    stream.emit('data', { results: [{ tag: 0n, result: { $case: 'event', value: { id: 4, kind: NodeEventKind.NODE_EVENT_KIND_RESTARTED, time, reason: 'r', pid: 77 } } }] });
    expect(events).toEqual([{ id: 4, kind: 'restarted', time, reason: 'r', pid: 77 }]);
    stream.emit('error', Object.assign(new Error('14 UNAVAILABLE: Connection dropped'), { code: status.UNAVAILABLE, details: 'Connection dropped' }));
    stream.emit('close');
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ code: 'unavailable', reason: 'UNAVAILABLE: Connection dropped', grpcStatus: status.UNAVAILABLE });
    expect(s.lostWith).toBe(lost[0]);
    await expect(s.command({ $case: 'ping', value: { id: 1 } })).rejects.toBe(lost[0]);
  });

  it('command(): the wire result, written at once; writable turns false while the stream is full and whenWritable waits for its drain', async () => {
    const stream = new FakeStream();
    stream.full = true;
    const s = session(stream);
    const outcome = s.command({ $case: 'exec', value: { id: 1, name: 'k3' } });
    await turn();
    expect(stream.written).toBe(1);
    expect(s.writable).toBe(false);
    let room = false;
    void s.whenWritable().then(() => (room = true));
    await turn();
    expect(room).toBe(false);
    stream.drain();
    await turn();
    expect(room).toBe(true);
    expect(s.writable).toBe(true);
    stream.answerAll(new Set());
    expect(await outcome).toEqual({ $case: 'exec', value: { id: 1, name: 'k3', found: true, value: 3n } });
    await s.close();
    expect(stream.ended).toBe(true);
  });
});

