/**
 * @module arbor: a crashed node restarts in place. A leaf holding 1,000 names is killed with
 * SIGKILL; the time is from the signal to its `available` event at a Watch subscriber, so it
 * covers noticing the exit, starting a new process, replaying the log and re-attaching it.
 */
import type { ClientReadableStream } from '@grpc/grpc-js';
import { NodeEventKind, type WatchResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { ms } from '../format.js';
import { create, type Gateway } from '../gateway.js';
import type { BenchOptions } from '../options.js';
import { endStream, pipelined } from '../pipeline.js';
import type { Row } from '../rows.js';
import { summarize } from '../stats.js';

function nextEvent(stream: ClientReadableStream<WatchResponse>, id: number, kind: NodeEventKind, timeoutMs = 10_000): Promise<number> {
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

export async function restartLatency(gateway: Gateway, opts: BenchOptions): Promise<Row> {
  const client = gateway.client();
  const watch = client.watch({ backlog: 0 });
  watch.on('error', () => undefined);
  const times: number[] = [];
  try {
    await create(client, 50);
    // Each trial its own leaf: the restart limit (5 within 30 s) is per node.
    for (let trial = 0; trial < opts.restartTrials; trial++) {
      const id = 100 + trial;
      const { pid } = await create(client, id);
      const session = client.session();
      await pipelined(session, (i) => ({ $case: 'exec', value: { id, name: `k${i}`, value: BigInt(i) } }), 256, { count: 1000 });
      await endStream(session);
      const back = nextEvent(watch, id, NodeEventKind.NODE_EVENT_KIND_AVAILABLE);
      const killAt = performance.now();
      process.kill(pid, 'SIGKILL');
      times.push((await back) - killAt);
    }
  } finally {
    watch.cancel();
  }
  const s = summarize(times);
  return {
    key: 'restart',
    section: 'arbor',
    value: ms(s.p50Ms),
    p50Ms: s.p50Ms,
    p99Ms: s.p99Ms,
    note: `${times.length} trials, a leaf with 1,000 names; kill -9 → available event; max ${ms(s.maxMs)}`,
    figures: { trials: times.length, p50Ms: s.p50Ms, p99Ms: s.p99Ms, maxMs: s.maxMs },
  };
}
