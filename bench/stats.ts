/**
 * @module Latency and throughput figures: a growable sample of latencies, percentiles, rates.
 */

/** p50/p99 and friends of one set of latencies, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

/** The outcome of a load run: how many operations completed in how long, and their latencies. */
export interface Throughput {
  ops: number;
  errors: number;
  seconds: number;
  opsPerSec: number;
  latency: LatencySummary;
  /** The first error seen, in words (undefined when none). */
  firstError?: string;
}

/** Collects latencies without an allocation per sample. */
export class LatencyRecorder {
  private values = new Float64Array(4096);
  private n = 0;

  get count(): number {
    return this.n;
  }

  add(ms: number): void {
    if (this.n === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.n++] = ms;
  }

  summary(): LatencySummary {
    return summarize(this.values.subarray(0, this.n));
  }
}

/** The p-th percentile (0..100) of sorted values, nearest-rank; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function summarize(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    meanMs: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    maxMs: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
  };
}

/** The arithmetic mean (NaN for none). */
export function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

export function median(values: readonly number[]): number {
  return percentile(Float64Array.from(values).sort(), 50);
}

export function throughput(ops: number, errors: number, seconds: number, latency: LatencySummary, firstError?: string): Throughput {
  return { ops, errors, seconds, opsPerSec: seconds > 0 ? ops / seconds : 0, latency, ...(firstError !== undefined && { firstError }) };
}
