/**
 * @module p50 of unary loads (concurrency 1) to two nodes, measured in alternating blocks so that
 * drift on this machine hits both alike, after a warm-up with calls in flight (every node on both
 * paths compiles its forwarding path first).
 */
import type { ArborServiceClient, ExecResponse } from '../proto/gen/arbor/v1/arbor.js';
import { closedLoop } from './closed-loop.js';
import type { BenchOptions } from './options.js';
import { LatencyRecorder, type LatencySummary } from './stats.js';
import { unaryCall } from './unary-call.js';

const BLOCK = 50;

export async function alternatingLoads(
  client: ArborServiceClient,
  near: number,
  far: number,
  opts: BenchOptions,
): Promise<{ near: LatencySummary; far: LatencySummary }> {
  const load = (id: number): Promise<ExecResponse> => unaryCall<ExecResponse>((cb) => client.exec({ id, name: 'k', value: undefined }, cb));
  const atNear = new LatencyRecorder();
  const atFar = new LatencyRecorder();
  const timed = async (id: number, into: LatencyRecorder | undefined): Promise<void> => {
    const t0 = performance.now();
    await load(id);
    into?.add(performance.now() - t0);
  };
  await closedLoop(() => load(far), 16, opts.warmupMs);
  await closedLoop(() => load(near), 16, opts.warmupMs / 2);
  for (let i = 0; i < BLOCK; i++) await timed(far, undefined);
  while (atNear.count < opts.hopSamples) {
    for (let i = 0; i < BLOCK; i++) await timed(near, atNear);
    for (let i = 0; i < BLOCK; i++) await timed(far, atFar);
  }
  return { near: atNear.summary(), far: atFar.summary() };
}
