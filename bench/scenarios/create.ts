/**
 * @module arbor: `create` of a whole tree, one call after the other (each waits for the
 * previous answer) or all at once (every Create call in flight together).
 */
import type { ArborServiceClient } from '../../proto/gen/arbor/v1/arbor.js';
import { ms, rate } from '../format.js';
import { create } from '../gateway.js';
import type { Row } from '../rows.js';
import { summarize } from '../stats.js';

export async function createOneAtATime(client: ArborServiceClient, ids: readonly number[]): Promise<Row> {
  const latencies: number[] = [];
  const start = performance.now();
  for (const id of ids) {
    const t0 = performance.now();
    await create(client, id);
    latencies.push(performance.now() - t0);
  }
  const seconds = (performance.now() - start) / 1000;
  const lat = summarize(latencies);
  return {
    key: 'createSequential',
    section: 'arbor',
    value: rate(ids.length / seconds, 'nodes/s'),
    p50Ms: lat.p50Ms,
    p99Ms: lat.p99Ms,
    note: `${ids.length} nodes in ${ms(seconds * 1000)}, mean ${ms(lat.meanMs)} per create`,
    figures: { nodes: ids.length, seconds, nodesPerSec: ids.length / seconds, p50Ms: lat.p50Ms, p99Ms: lat.p99Ms, meanMs: lat.meanMs },
  };
}

export async function createAllAtOnce(client: ArborServiceClient, ids: readonly number[]): Promise<Row> {
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    ids.map(async (id) => {
      await create(client, id);
      latencies.push(performance.now() - start);
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const lat = summarize(latencies);
  return {
    key: 'createConcurrent',
    section: 'arbor',
    value: rate(ids.length / seconds, 'nodes/s'),
    p50Ms: lat.p50Ms,
    p99Ms: lat.p99Ms,
    note: `${ids.length} concurrent Create calls, all done in ${ms(seconds * 1000)}`,
    figures: { nodes: ids.length, seconds, nodesPerSec: ids.length / seconds, p50Ms: lat.p50Ms, p99Ms: lat.p99Ms },
  };
}
