/**
 * @module The JSON record of a run, written to bench/results/<timestamp>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { Row, TargetResult } from './rows.js';
import { ROW_LABELS, TARGET_LABELS } from './rows.js';

export interface Machine {
  node: string;
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
}

export function machine(): Machine {
  const list = cpus();
  return { node: process.version, cpus: list.length, cpuModel: list[0]?.model ?? 'unknown', memoryBytes: totalmem() };
}

export interface RunRecord {
  startedAt: Date;
  quick: boolean;
  /** Set when `--only` ran a subset of the phases. */
  only?: readonly string[];
  durationSeconds: number;
  /** 1-minute load average at start and at end (other work on the machine skews figures). */
  loadAverage: [number, number];
  rows: readonly Row[];
  targets: readonly TargetResult[];
  errors: readonly string[];
}

/** Writes the record and returns the file's path. */
export function writeResults(dir: string, run: RunRecord): string {
  mkdirSync(dir, { recursive: true });
  const stamp = run.startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const file = `${dir}${stamp}${run.quick ? '-quick' : ''}${run.only ? '-partial' : ''}.json`;
  const json = {
    startedAt: run.startedAt.toISOString(),
    mode: run.quick ? 'quick' : 'full',
    only: run.only,
    durationSeconds: run.durationSeconds,
    loadAverage: run.loadAverage,
    machine: machine(),
    rows: run.rows.map((r) => ({ ...r, label: ROW_LABELS[r.key] })),
    targets: run.targets.map((t) => ({ ...t, label: TARGET_LABELS[t.key] })),
    errors: run.errors,
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  return file;
}
