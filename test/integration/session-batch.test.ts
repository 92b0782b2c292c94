/**
 * Batches on the Session stream: a SessionRequest carries up to 1,024 commands, each answered
 * under its own tag; results that are ready together share a SessionResponse; a request out of
 * bounds is refused command by command, and the stream goes on.
 */
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';
import { type Command, load, ping, store, TestSession } from '../helpers/session.js';

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
