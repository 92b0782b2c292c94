/**
 * Many Watch subscribers, some never reading: the slow ones are cut off with
 * RESOURCE_EXHAUSTED once they fall --watch-buffer events behind (so the gateway buffers a
 * bounded amount for them), while every reading subscriber gets every event.
 */
import { type ClientReadableStream, credentials, status } from '@grpc/grpc-js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ArborServiceClient, type WatchResponse } from '../proto/gen/arbor/v1/arbor.js';
import { startGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/processes.js';
import { rpc } from './helpers/rpc.js';

const SUBSCRIBERS = 100;
const SLOW = 10;
const NODES = 40;
const OUTAGES = 10;

describe('Watch subscribers', () => {
  it('cuts off subscribers that never read; the others get every event', { timeout: 90_000 }, async () => {
    // The buffer must hold a burst (one event per node) for a subscriber that does read.
    const gw = await startGateway(['--watch-buffer', '100']);
    const api = rpc(gw.client());
    const subscribers: { events: number; error: number | undefined; stream: ClientReadableStream<WatchResponse> }[] = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const slow = i < SLOW;
      // A tiny HTTP/2 window, so a paused client really stops the server's writes.
      const client = new ArborServiceClient(gw.address, credentials.createInsecure(), slow ? { 'grpc-node.flow_control_window': 1024 } : {});
      onTestFinished(() => client.close());
      const stream = client.watch({});
      const sub = { events: 0, error: undefined as number | undefined, stream };
      stream.on('data', () => sub.events++);
      stream.on('error', (e: { code: number }) => (sub.error = e.code));
      if (slow) stream.pause();
      subscribers.push(sub);
    }
    const fast = subscribers.slice(SLOW);
    const ids = Array.from({ length: NODES }, (_, i) => ((i * 17) % NODES) + 1);
    const root = await api.create({ id: ids[0]! });
    await waitFor('every subscriber connected', () => fast.every((s) => s.events === 1));
    for (const id of ids.slice(1)) await api.create({ id });
    await api.heartbeat({ intervalMs: 25 });

    // Each outage of the root makes every node unavailable, then available: 2 x NODES events.
    let expected = NODES;
    for (let i = 0; i < OUTAGES; i++) {
      process.kill(root.pid, 'SIGSTOP');
      expected += NODES;
      await waitFor(`outage ${i} seen`, () => fast.every((s) => s.events >= expected), 10_000);
      process.kill(root.pid, 'SIGCONT');
      expected += NODES;
      await waitFor(`recovery ${i} seen`, () => fast.every((s) => s.events >= expected), 10_000);
    }
    // Every reading subscriber got the same events (a loaded machine may add a flap or two).
    await waitFor('fast subscribers level', () => fast.every((s) => s.events === fast[0]!.events));
    expect(fast[0]!.events).toBeGreaterThanOrEqual(expected);
    for (const s of fast) expect(s.error).toBeUndefined();

    for (const slow of subscribers.slice(0, SLOW)) slow.stream.resume();
    await waitFor('slow subscribers cut off', () => subscribers.slice(0, SLOW).every((s) => s.error !== undefined), 20_000);
    for (const slow of subscribers.slice(0, SLOW)) {
      expect(slow.error).toBe(status.RESOURCE_EXHAUSTED);
      expect(slow.events).toBeLessThan(expected);
    }
    for (const s of subscribers) s.stream.cancel();
  });
});
