/**
 * Many Watch subscribers, some never reading: the slow ones are cut off with
 * RESOURCE_EXHAUSTED once they fall --watch-buffer events behind (so the gateway buffers a
 * bounded amount for them), while every reading subscriber gets every event.
 */
import { type ClientReadableStream, credentials, status } from '@grpc/grpc-js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ArborServiceClient, NodeEventKind, type WatchResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { startGateway } from '../helpers/gateway.js';
import { rpc } from '../helpers/rpc.js';
import { subscribed } from '../helpers/watch.js';

const SUBSCRIBERS = 100;
const SLOW = 10;
const NODES = 40;
const OUTAGES = 10;

describe('Watch subscribers', () => {
  it('cuts off subscribers that never read; the others get every event', { timeout: 90_000 }, async () => {
    // The buffer must hold a burst for a subscriber that does read: an outage and its recovery
    // are 2 x NODES events, which a test process reading 100 streams may take a while to drain
    // (grpc-js holds only 16 messages per stream before write() asks us to wait). 300 is room
    // for that, and the slow ones, who never read, still pass it well before the last outage.
    const gw = await startGateway(['--watch-buffer', '300']);
    const api = rpc(gw.client());
    type Subscriber = {
      events: number;
      error: number | undefined;
      stream: ClientReadableStream<WatchResponse>;
      up: Map<number, boolean>;
      subscribed: Promise<void>;
    };
    const subscribers: Subscriber[] = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const slow = i < SLOW;
      // A tiny HTTP/2 window, so a paused client really stops the server's writes.
      const client = new ArborServiceClient(gw.address, credentials.createInsecure(), slow ? { 'grpc-node.flow_control_window': 1024 } : {});
      onTestFinished(() => client.close());
      const stream = client.watch({ backlog: 0 });
      const sub: Subscriber = { events: 0, error: undefined, stream, up: new Map(), subscribed: subscribed(stream) };
      stream.on('data', ({ event }: WatchResponse) => {
        sub.events++;
        // What this subscriber believes of each node: the last availability event wins.
        if (event?.kind === NodeEventKind.NODE_EVENT_KIND_UNAVAILABLE) sub.up.set(event.id, false);
        if (event?.kind === NodeEventKind.NODE_EVENT_KIND_AVAILABLE || event?.kind === NodeEventKind.NODE_EVENT_KIND_CREATED) sub.up.set(event.id, true);
      });
      stream.on('error', (e: { code: number }) => (sub.error = e.code));
      if (slow) stream.pause();
      subscribers.push(sub);
    }
    const fast = subscribers.slice(SLOW);
    const ids = Array.from({ length: NODES }, (_, i) => ((i * 17) % NODES) + 1);
    await Promise.all(subscribers.map((s) => s.subscribed));
    const first = await api.create({ id: ids[0]! });
    await expect.poll(() => fast.every((s) => s.events === 1), { message: 'every subscriber connected', timeout: 5000, interval: 20 }).toBe(true);
    for (const id of ids.slice(1)) await api.create({ id });
    await api.heartbeat({ intervalMs: 25 });
    // The tree is balanced as it grows: the root now is not the first node created.
    const { root: rootId, nodes } = await api.topology();
    const root = nodes.find((n) => n.id === rootId)!;
    expect(first.pid).toBeGreaterThan(0);

    // Each outage of the root makes every node unavailable, then available: at least 2 x NODES
    // events. The waits are on what each subscriber was told of every node, not on counts, so a
    // flap on a loaded machine (an extra pair of events) cannot make a wait end early.
    const believe = (up: boolean) => (s: Subscriber) => ids.every((id) => s.up.get(id) === up);
    await expect.poll(() => fast.every(believe(true)), { message: 'every subscriber knows every node', timeout: 5000, interval: 20 }).toBe(true);
    let expected = NODES;
    for (let i = 0; i < OUTAGES; i++) {
      process.kill(root.pid, 'SIGSTOP');
      expected += NODES;
      await expect.poll(() => fast.every(believe(false)), { message: `outage ${i} seen`, timeout: 10_000, interval: 20 }).toBe(true);
      process.kill(root.pid, 'SIGCONT');
      expected += NODES;
      await expect.poll(() => fast.every(believe(true)), { message: `recovery ${i} seen`, timeout: 10_000, interval: 20 }).toBe(true);
    }
    // Every reading subscriber got the same events (a loaded machine may add a flap or two).
    await expect.poll(() => fast.every((s) => s.events === fast[0]!.events), { message: 'fast subscribers level', timeout: 5000, interval: 20 }).toBe(true);
    expect(fast[0]!.events).toBeGreaterThanOrEqual(expected);
    for (const s of fast) expect(s.error).toBeUndefined();

    for (const slow of subscribers.slice(0, SLOW)) slow.stream.resume();
    await expect.poll(() => subscribers.slice(0, SLOW).every((s) => s.error !== undefined), { message: 'slow subscribers cut off', timeout: 20_000, interval: 20 }).toBe(true);
    for (const slow of subscribers.slice(0, SLOW)) {
      expect(slow.error).toBe(status.RESOURCE_EXHAUSTED);
      expect(slow.events).toBeLessThan(expected);
    }
    for (const s of subscribers) s.stream.cancel();
  });
});
