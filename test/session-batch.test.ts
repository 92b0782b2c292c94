/**
 * Batches on the Session stream: a SessionRequest carries up to 1,024 commands, each answered
 * under its own tag; results that are ready together share a SessionResponse; a request out of
 * bounds is refused command by command, and the stream goes on.
 */
import { EventEmitter } from 'node:events';
import { type ClientDuplexStream, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { SessionClient } from '../clients/session-client.js';
import type { SessionRequest, SessionResponse } from '../proto/gen/arbor/v1/arbor.js';
import { startGateway } from './helpers/gateway.js';
import { rpc } from './helpers/rpc.js';
import { type Command, load, ping, store, TestSession } from './helpers/session.js';

describe('Session batches', () => {
  it('answers every command of one request under its own tag, many results per response', async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    for (const id of [8, 4, 12]) await api.create({ id });
    const session = new TestSession(gw.client());
    const commands: Command[] = [];
    for (let i = 0; i < 1000; i++) commands.push(store([8, 4, 12][i % 3] as number, `k${i}`, BigInt(i)));
    const storeTags = session.sendBatch(commands);
    const loadTags = session.sendBatch(commands.map((_, i) => load([8, 4, 12][i % 3] as number, `k${i}`)));
    const loads = await session.all(loadTags);
    loads.forEach((result, i) => {
      expect(result).toEqual({ $case: 'exec', value: { id: [8, 4, 12][i % 3], name: `k${i}`, found: true, value: BigInt(i) } });
    });
    await session.all(storeTags);
    // 2,000 answers in far fewer messages: the gateway sends what is ready together.
    expect(session.responses).toBeLessThan(1000);
    await session.end();
  });

  it('refuses a request of more than 1,024 commands under each tag, and an empty one with tag 0', async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    await api.create({ id: 5 });
    const session = new TestSession(gw.client());
    const tooMany = session.sendBatch(Array.from({ length: 1025 }, () => store(5, 'x', 7n)));
    const refusals = await session.all(tooMany);
    for (const result of refusals) {
      expect(result).toEqual({
        $case: 'error',
        value: {
          code: status.INVALID_ARGUMENT,
          message: 'the SessionRequest has 1025 commands: at most 1024 per message',
          reason: '',
        },
      });
    }
    session.write({ commands: [] });
    await expect(session.reply(0n)).resolves.toEqual({
      $case: 'error',
      value: { code: status.INVALID_ARGUMENT, message: 'the SessionRequest has no commands', reason: '' },
    });
    // None of the refused stores ran, and the stream still works.
    expect(await session.reply(session.send(load(5, 'x')))).toMatchObject({ $case: 'exec', value: { id: 5, found: false } });
    expect(await session.reply(session.send(ping(5)))).toEqual({ $case: 'ping', value: { id: 5, available: true } });
    await session.end();
  });
});

describe('SessionClient batching (the CLI side)', () => {
  /** Just enough of a grpc-js client stream: records writes, lets the test play the gateway. */
  class FakeStream extends EventEmitter {
    readonly writes: SessionRequest[] = [];
    write(request: SessionRequest): boolean {
      this.writes.push(request);
      return true;
    }
    end(): void {
      this.emit('end');
    }
    cancel(): void {}
  }

  it('sends the commands of one event-loop turn in requests of at most 1,024, and matches results by tag', async () => {
    const stream = new FakeStream();
    const unmatched: bigint[] = [];
    const client = new SessionClient(stream as unknown as ClientDuplexStream<SessionRequest, SessionResponse>, 'fake', {
      onUnmatched: (result) => unmatched.push(result.tag),
    });
    const answers = Array.from({ length: 2500 }, (_, i) => client.send(ping(i)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.writes.map((w) => w.commands.length)).toEqual([1024, 1024, 452]);
    const tags = stream.writes.flatMap((w) => w.commands.map((c) => c.tag));
    expect(new Set(tags).size).toBe(2500);
    // One response may answer commands of several requests, in any order, with an event among them.
    stream.emit('data', {
      results: [
        { tag: 0n, result: { $case: 'event', value: { id: 1, kind: 0, reason: '' } } },
        ...[...tags].reverse().map((tag) => ({ tag, result: { $case: 'pong', value: { id: Number(tag), available: true } } })),
      ],
    });
    const outcomes = await Promise.all(answers);
    outcomes.forEach((outcome, i) => expect(outcome).toEqual({ $case: 'pong', value: { id: Number(tags[i]), available: true } }));
    expect(unmatched).toEqual([0n]);
    expect(client.inFlight).toBe(0);
  });
});
