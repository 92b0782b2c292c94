/**
 * @module Closed-loop load: `concurrency` callers, each issuing its next call as soon as the
 * previous one answers, for a fixed time. The figure users see for request/response APIs.
 */
import { LatencyRecorder, type Throughput, throughput } from './stats.js';

/** One call; `i` counts calls across all callers (for varying keys). */
export type Operation = (i: number) => Promise<unknown>;

export async function closedLoop(op: Operation, concurrency: number, durationMs: number): Promise<Throughput> {
  const latencies = new LatencyRecorder();
  let errors = 0;
  let firstError: string | undefined;
  let issued = 0;
  const start = performance.now();
  const end = start + durationMs;
  let last = start;

  const caller = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await op(issued++);
        last = performance.now();
        latencies.add(last - t0);
      } catch (error) {
        last = performance.now();
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return throughput(latencies.count, errors, (last - start) / 1000, latencies.summary(), firstError);
}
