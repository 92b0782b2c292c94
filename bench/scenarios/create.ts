/**
 * @module arbor: `create` of a whole tree, one call after the other (each waits for the
 * previous answer) or all at once (every Create call in flight together).
 */
import type { ArborServiceClient } from '../../proto/gen/arbor/v1/arbor.js';
import { ms, rate } from '../format.js';
import { create, type Gateway } from '../gateway.js';
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

/**
 * `create` as a person at the console meets it: each create sent once the pool holds its spares
 * again (the gauge `arbor_spare_processes` back at `poolSize`), so each one claims a process
 * started ahead. The gateway must serve metrics.
 */
export async function createWithSpare(gateway: Gateway, client: ArborServiceClient, ids: readonly number[], poolSize: number): Promise<Row> {
  const latencies: number[] = [];
  for (const id of ids) {
    const until = Date.now() + 10_000;
    while ((await gateway.gauge('arbor_spare_processes')) < poolSize) {
      if (Date.now() > until) throw new Error(`the pool did not refill to ${poolSize} within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const t0 = performance.now();
    await create(client, id);
    latencies.push(performance.now() - t0);
  }
  const lat = summarize(latencies);
  return {
    key: 'createSpare',
    section: 'arbor',
    value: ms(lat.p50Ms),
    p50Ms: lat.p50Ms,
    p99Ms: lat.p99Ms,
    note: `${ids.length} creates, each once the pool held ${poolSize} spares again; mean ${ms(lat.meanMs)}`,
    figures: { nodes: ids.length, p50Ms: lat.p50Ms, p99Ms: lat.p99Ms, meanMs: lat.meanMs },
  };
}
