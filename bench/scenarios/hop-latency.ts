/**
 * @module arbor: added latency per tree hop. A chain from sorted inserts (1, 2, ... 32: each a
 * right child, the last at depth 31); p50 of unary loads at concurrency 1 to the deepest node
 * minus p50 to the root, divided by the hops between them. Root and deepest alternate in
 * blocks so drift hits both alike.
 */
import type { ArborServiceClient, ExecResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { closedLoop } from '../closed-loop.js';
import { ms, us } from '../format.js';
import type { BenchOptions } from '../options.js';
import type { Row } from '../rows.js';
import { LatencyRecorder } from '../stats.js';
import { unaryCall } from '../unary-call.js';

const BLOCK = 50;

export async function hopLatency(client: ArborServiceClient, chain: readonly number[], opts: BenchOptions): Promise<Row> {
  const root = chain[0] as number;
  const deepest = chain[chain.length - 1] as number;
  const hops = chain.length - 1;
  const load = (id: number): Promise<ExecResponse> => unaryCall<ExecResponse>((cb) => client.exec({ id, name: 'k', value: undefined }, cb));
  const atRoot = new LatencyRecorder();
  const atDeepest = new LatencyRecorder();
  const timed = async (id: number, into: LatencyRecorder | undefined): Promise<void> => {
    const t0 = performance.now();
    await load(id);
    into?.add(performance.now() - t0);
  };
  // Warm-up with calls in flight, so every node of the chain compiles its forwarding path.
  await closedLoop(() => load(deepest), 16, opts.warmupMs);
  await closedLoop(() => load(root), 16, opts.warmupMs / 2);
  for (let i = 0; i < BLOCK; i++) await timed(deepest, undefined);
  while (atRoot.count < opts.hopSamples) {
    for (let i = 0; i < BLOCK; i++) await timed(root, atRoot);
    for (let i = 0; i < BLOCK; i++) await timed(deepest, atDeepest);
  }
  const r = atRoot.summary();
  const d = atDeepest.summary();
  const perHop = (d.p50Ms - r.p50Ms) / hops;
  return {
    key: 'hop',
    section: 'arbor',
    value: us(perHop),
    note: `p50 depth ${hops} ${ms(d.p50Ms)} vs root ${ms(r.p50Ms)}, over ${hops} hops, ${r.count} loads each`,
    figures: { perHopMs: perHop, rootP50Ms: r.p50Ms, deepestP50Ms: d.p50Ms, rootP99Ms: r.p99Ms, deepestP99Ms: d.p99Ms, hops },
  };
}
