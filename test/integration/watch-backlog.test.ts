/*
 * Watch with a backlog (WatchRequest.backlog): the past events asked for come first, oldest
 * first, then the live ones, with no gap and no repeat; 0 asks for none, and a large number
 * gets what the gateway kept. (The page asks for 100 over Connect: web-view.test.ts.)
 */
import type { ClientReadableStream } from '@grpc/grpc-js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type ArborServiceClient, type WatchResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { eventKindName } from '../../clients/format-event.js';
import { startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';
import { subscribed } from '../helpers/watch.js';

/** A Watch with `backlog`, collecting `kind id` strings. */
async function watching(client: ArborServiceClient, backlog: number): Promise<string[]> {
  const stream: ClientReadableStream<WatchResponse> = client.watch({ backlog });
  const seen: string[] = [];
  stream.on('data', ({ event }: WatchResponse) => seen.push(`${eventKindName(event?.kind ?? 0)} ${event?.id}`));
  stream.on('error', () => undefined); // cancelled at the end
  onTestFinished(() => stream.cancel());
  await subscribed(stream);
  return seen;
}

describe('Watch backlog', () => {
  it('sends the last events asked for, oldest first, then the live ones once each', { timeout: 60_000 }, async () => {
    const gw = await startGateway();
    const api = rpc(gw.client());
    for (const id of [5, 3, 8]) await api.create({ id });
    const client = gw.client();

    const none = await watching(client, 0);
    const two = await watching(client, 2);
    const all = await watching(client, 1000);
    await expect.poll(() => two, { timeout: 5000, interval: 20 }).toEqual(['created 3', 'created 8']);
    await expect.poll(() => all, { timeout: 5000, interval: 20 }).toEqual(['created 5', 'created 3', 'created 8']);

    await api.create({ id: 9 });
    await expect.poll(() => none, { timeout: 5000, interval: 20 }).toEqual(['created 9']);
    await expect.poll(() => two, { timeout: 5000, interval: 20 }).toEqual(['created 3', 'created 8', 'created 9']);
    await expect.poll(() => all, { timeout: 5000, interval: 20 }).toEqual(['created 5', 'created 3', 'created 8', 'created 9']);
    expect(none).toEqual(['created 9']);
  });
});
