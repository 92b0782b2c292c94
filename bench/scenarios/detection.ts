/**
 * @module arbor: how long after a failure the Watch stream reports it. A fresh leaf is frozen
 * (SIGSTOP, found by the 4 x interval heartbeat rule: expected 3 to 4 x the interval after the
 * stop) or killed (SIGKILL, known at once through the OS), over several trials; the latency is
 * from the signal to the event's arrival at a subscriber.
 */
import type { ClientReadableStream } from '@grpc/grpc-js';
import { NodeEventKind, type WatchResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { ms } from '../format.js';
import { create, type Gateway, heartbeat } from '../gateway.js';
import type { Row } from '../rows.js';
import { summarize } from '../stats.js';

const INTERVAL_MS = 100;

function waitForEvent(stream: ClientReadableStream<WatchResponse>, id: number, kind: NodeEventKind, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.off('data', onData);
      reject(new Error(`no ${NodeEventKind[kind]} event for node ${id} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (res: WatchResponse): void => {
      if (res.event?.id !== id || res.event.kind !== kind) return;
      clearTimeout(timer);
      stream.off('data', onData);
      resolve(performance.now());
    };
    stream.on('data', onData);
  });
}

export async function detectionLatency(gateway: Gateway, trials: number): Promise<Row[]> {
  const client = gateway.client();
  const stream = client.watch({ backlog: 0 });
  stream.on('error', () => undefined);
  try {
    await heartbeat(client, INTERVAL_MS);
    const stopped: number[] = [];
    const killed: number[] = [];
    // A killed node stays in the tree and blocks the search paths through it, so each trial
    // grows a live spine (1000, 1010, 1020... right children) and hangs its victim on the left
    // of the newest spine node (995, 1005...), off every later path.
    for (let trial = 0; trial < trials; trial++) {
      await create(client, 1000 + 10 * trial);
      const id = 995 + 10 * trial;
      const { pid } = await create(client, id);
      // Let heartbeats flow so the stop lands at a random phase of the interval.
      await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS + Math.random() * INTERVAL_MS));
      const down = waitForEvent(stream, id, NodeEventKind.NODE_EVENT_KIND_UNAVAILABLE);
      const stopAt = performance.now();
      process.kill(pid, 'SIGSTOP');
      stopped.push((await down) - stopAt);
      const up = waitForEvent(stream, id, NodeEventKind.NODE_EVENT_KIND_AVAILABLE);
      process.kill(pid, 'SIGCONT');
      await up;
      const exited = waitForEvent(stream, id, NodeEventKind.NODE_EVENT_KIND_EXITED);
      const killAt = performance.now();
      process.kill(pid, 'SIGKILL');
      killed.push((await exited) - killAt);
    }
    const row = (key: Row['key'], values: number[], expectation: string): Row => {
      const s = summarize(values);
      const min = Math.min(...values);
      return {
        key,
        section: 'arbor',
        value: ms(s.p50Ms),
        p50Ms: s.p50Ms,
        p99Ms: s.p99Ms,
        note: `${values.length} trials, min ${ms(min)}, max ${ms(s.maxMs)}; ${expectation}`,
        figures: { trials: values.length, p50Ms: s.p50Ms, p99Ms: s.p99Ms, minMs: min, maxMs: s.maxMs },
      };
    };
    return [
      row('detectStop', stopped, `heartbeat ${INTERVAL_MS} ms: expected ${3 * INTERVAL_MS}-${4 * INTERVAL_MS} ms after the stop`),
      row('detectKill', killed, 'known through the OS at once'),
    ];
  } finally {
    stream.cancel();
  }
}
