/**
 * @module Turning measurements into table rows.
 */
import { rate } from './format.js';
import { type Row, sectionOf } from './rows.js';
import type { Throughput } from './stats.js';

/** A throughput row: rate as the value, p50/p99 latency, errors in the note. */
/** CPU time one process (or group) used during a measured run. */
export interface CpuShare {
  name: string;
  cpuUs: number;
}

export function throughputRow(key: Row['key'], section: Row['section'], t: Throughput, note?: string, unit = 'ops/s', cpu: readonly CpuShare[] = []): Row {
  const errors = t.errors > 0 ? `${t.errors} errors (${t.firstError ?? '?'})` : undefined;
  const perOp = t.ops === 0 ? [] : cpu.map((c) => ({ name: c.name, us: c.cpuUs / t.ops }));
  const cpuText = perOp.length === 0 ? undefined : `CPU µs/op: ${perOp.map((c) => `${c.name} ${c.us.toFixed(0)}`).join(', ')}`;
  const text = [note, cpuText, errors].filter((x) => x !== undefined).join('; ');
  return {
    key,
    section,
    value: rate(t.opsPerSec, unit),
    p50Ms: t.latency.p50Ms,
    p99Ms: t.latency.p99Ms,
    ...(text !== '' && { note: text }),
    figures: {
      opsPerSec: t.opsPerSec,
      ops: t.ops,
      errors: t.errors,
      seconds: t.seconds,
      p50Ms: t.latency.p50Ms,
      p99Ms: t.latency.p99Ms,
      meanMs: t.latency.meanMs,
      ...Object.fromEntries(perOp.map((c) => [`cpuUsPerOp.${c.name}`, c.us])),
    },
  };
}

/** A row that could not be measured: the value says why. */
export function unavailableRow(key: Row['key'], why: string): Row {
  return { key, section: sectionOf(key), value: `n/a (${why})`, figures: {} };
}
