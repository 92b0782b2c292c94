/**
 * @module Baseline: start time (spawn until its first message is received here) and idle RSS
 * of a bare Node process that loads zeromq and connects one socket. The floor for `create`
 * and for a computing process's memory. Also the CPU such a start costs, which bounds how fast
 * processes can be started at once on this machine's cores.
 */
import { mb, ms } from '../format.js';
import type { BenchOptions } from '../options.js';
import { clockTicksPerSecond, cpuTicks, rssAnonBytes, rssBytes } from '../procfs.js';
import type { Row } from '../rows.js';
import { median } from '../stats.js';
import { BareRouter } from './bare-router.js';

const sleep = (msec: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, msec));

export async function bareStartBaselines(opts: BenchOptions): Promise<Row[]> {
  const router = await BareRouter.bind('bare');
  const starts: number[] = [];
  const rss: number[] = [];
  const cpu: number[] = [];
  const anon: number[] = [];
  try {
    for (let i = 0; i < opts.bareStarts; i++) {
      const t0 = performance.now();
      const child = await router.start();
      try {
        const started = performance.now() - t0;
        const cpuMs = (cpuTicks(child.pid) * 1000) / clockTicksPerSecond();
        await sleep(opts.idleSettleMs);
        const bytes = rssBytes(child.pid);
        const anonBytes = rssAnonBytes(child.pid);
        // The first start warms the disk cache and is not counted.
        if (i > 0 || opts.bareStarts === 1) {
          starts.push(started);
          cpu.push(cpuMs);
          if (bytes !== undefined) rss.push(bytes);
          if (anonBytes !== undefined) anon.push(anonBytes);
        }
      } finally {
        await child.stop('SIGTERM', 2000);
      }
    }
  } finally {
    await router.close();
  }
  const start = median(starts);
  const memory = median(rss);
  const cpuMs = median(cpu);
  const anonymous = median(anon);
  return [
    {
      key: 'bareStart',
      section: 'baselines',
      value: ms(start),
      note: `median of ${starts.length} starts, spawn → first message received; CPU used by then: ${ms(cpuMs)}`,
      figures: { medianMs: start, minMs: Math.min(...starts), maxMs: Math.max(...starts), cpuMs },
    },
    {
      key: 'bareRss',
      section: 'baselines',
      value: mb(memory),
      note: `VmRSS after ${opts.idleSettleMs} ms idle, median of ${rss.length}; of which anonymous (RssAnon) ${mb(anonymous)}`,
      figures: { bytes: memory, anonBytes: anonymous },
    },
  ];
}
