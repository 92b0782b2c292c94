/**
 * @module arbor: added latency per tree hop. A chain from sorted inserts with balancing off
 * (1, 2, ... 32: each a right child, the last at depth 31); p50 of unary loads at concurrency 1
 * to the deepest node minus p50 to the root, divided by the hops between them.
 */
import type { ArborServiceClient } from '../../proto/gen/arbor/v1/arbor.js';
import { alternatingLoads } from '../alternating-loads.js';
import { ms, us } from '../format.js';
import type { BenchOptions } from '../options.js';
import type { Row } from '../rows.js';

export async function hopLatency(client: ArborServiceClient, chain: readonly number[], opts: BenchOptions): Promise<Row> {
  const hops = chain.length - 1;
  const { near: r, far: d } = await alternatingLoads(client, chain[0] as number, chain[chain.length - 1] as number, opts);
  const perHop = (d.p50Ms - r.p50Ms) / hops;
  return {
    key: 'hop',
    section: 'arbor',
    value: us(perHop),
    note: `p50 depth ${hops} ${ms(d.p50Ms)} vs root ${ms(r.p50Ms)}, over ${hops} hops, ${r.count} loads each`,
    figures: { perHopMs: perHop, rootP50Ms: r.p50Ms, deepestP50Ms: d.p50Ms, rootP99Ms: r.p99Ms, deepestP99Ms: d.p99Ms, hops },
  };
}
