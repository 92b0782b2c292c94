/**
 * @module Baseline: start time (spawn until its first message is received here) of a bare Node
 * process that loads zeromq and connects one socket, and the CPU such a start costs. The floor
 * for `create`, and, with the CPU, for how fast processes can be started on this machine's cores.
 * (Its memory is measured with as many running as arbor runs nodes: baselines/zmtp-floor.ts.)
 */
import { ms } from '../format.js';
import type { BenchOptions } from '../options.js';
import { clockTicksPerSecond, cpuTicks } from '../procfs.js';
import type { Row } from '../rows.js';
import { median } from '../stats.js';
import { BareRouter } from './bare-router.js';

export async function bareStartBaselines(opts: BenchOptions): Promise<Row[]> {
  const router = await BareRouter.bind('bare');
  const starts: number[] = [];
  const cpu: number[] = [];
  try {
    for (let i = 0; i < opts.bareStarts; i++) {
      const t0 = performance.now();
      const child = await router.start();
      try {
        const started = performance.now() - t0;
        const cpuMs = (cpuTicks(child.pid) * 1000) / clockTicksPerSecond();
        // The first start warms the disk cache and is not counted.
        if (i > 0 || opts.bareStarts === 1) {
          starts.push(started);
          cpu.push(cpuMs);
        }
      } finally {
        await child.stop('SIGTERM', 2000);
      }
    }
  } finally {
    await router.close();
  }
  const start = median(starts);
  const cpuMs = median(cpu);
  return [
    {
      key: 'bareStart',
      section: 'baselines',
      value: ms(start),
      note: `median of ${starts.length} starts, spawn → first message received; CPU used by then: ${ms(cpuMs)}`,
      figures: { medianMs: start, minMs: Math.min(...starts), maxMs: Math.max(...starts), cpuMs },
    },
  ];
}
