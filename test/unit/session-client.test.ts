/**
 * The CLI's side of the Session stream, against a fake stream: the commands of one event-loop
 * turn go in requests of at most 1,024, and results are matched by tag, in any order.
 */
import { EventEmitter } from 'node:events';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { SessionClient } from '../../clients/lib/session-stream.js';
import type { SessionRequest, SessionResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { ping } from '../helpers/session.js';

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
