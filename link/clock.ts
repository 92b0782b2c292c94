/**
 * @module Milliseconds on a monotonic clock, for the computing process and the control.
 *
 * Not `performance.now()`: the first use of `performance` loads perf_hooks and ten more
 * built-in modules, memory in every computing process.
 */
export function monotonicMs(): number {
  const [seconds, nanos] = process.hrtime();
  return seconds * 1e3 + nanos / 1e6;
}
