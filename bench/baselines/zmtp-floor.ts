/**
 * @module Baseline: the floor of liveness. N bare Node + zeromq processes, each one DEALER
 * connected to a ROUTER here, whose links carry only libzmq's own heartbeats (PING/PONG in the
 * I/O threads, no JavaScript per beat) at 100 ms and at 1,000 ms: CPU of the processes that
 * heartbeat and of this receiver over a window, percent of one core, after the same settling
 * time arbor gets. Also the memory of such a process (PSS and USS) with N of them running, the
 * fair match for arbor's N nodes (PSS splits the shared pages among the processes that map them).
 *
 * The processes start once, for the largest N; a smaller N is measured with only that many
 * heartbeating (the others idle without timers, and are not counted).
 */
import { mb, percent } from '../format.js';
import type { Tracked } from '../children.js';
import type { BenchOptions } from '../options.js';
import { memoryShares, percentOfCore, threadCpuMeter } from '../procfs.js';
import type { Row, RowKey } from '../rows.js';
import { median } from '../stats.js';
import { BareRouter } from './bare-router.js';

const sleep = (msec: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, msec));

/**
 * CPU of `pids` plus this process over `windowMs`, percent of one core, from schedstat by kind
 * of thread as arbor's rows measure it (procfs.ts); `zmqIo` is that of `pids`.
 */
export async function cpuOver(pids: readonly number[], windowMs: number): Promise<{ total: number; self: number; zmqIo: number; js: number }> {
  const ofThem = threadCpuMeter(pids);
  const ofSelf = threadCpuMeter([process.pid]);
  const t0 = performance.now();
  await sleep(windowMs);
  const them = ofThem();
  const self = ofSelf();
  const seconds = (performance.now() - t0) / 1000;
  const selfPercent = percentOfCore(self.js + self.zmqIo + self.other, seconds);
  return {
    total: percentOfCore(them.js + them.zmqIo + them.other, seconds) + selfPercent,
    self: selfPercent,
    zmqIo: percentOfCore(them.zmqIo, seconds),
    js: percentOfCore(them.js, seconds),
  };
}

export interface FloorCase {
  key: RowKey;
  processes: number;
  intervalMs: number;
  /**
   * Also a message every this many ms from each process's JavaScript timer: the least that
   * liveness of event loops can cost, one wakeup per process per beat period (arbor's beats wake
   * the parent's loop too).
   */
  jsBeatMs?: number;
}

export async function zmtpFloor(opts: BenchOptions, cases: readonly FloorCase[], memoryKey: RowKey): Promise<Row[]> {
  const count = Math.max(...cases.map((c) => c.processes));
  const router = await BareRouter.bind('floor');
  const children: Tracked[] = [];
  const rows: Row[] = [];
  const tell = (procs: readonly Tracked[], line: string): void => {
    for (const child of procs) child.proc.stdin?.write(`${line}\n`);
  };
  try {
    // A few at a time, as arbor's pool starts its processes.
    for (let i = 0; i < count; i += 8) {
      children.push(...(await Promise.all(Array.from({ length: Math.min(8, count - i) }, () => router.start()))));
    }
    await sleep(opts.idleSettleMs);
    const shares = children.map((c) => memoryShares(c.pid)).filter((s) => s !== undefined);
    const pss = median(shares.map((s) => s.pss));
    const uss = median(shares.map((s) => s.uss));
    rows.push({
      key: memoryKey,
      section: 'baselines',
      value: `PSS ${mb(pss)}`,
      note: `median of ${shares.length} bare processes running together, one DEALER connected each, after ${opts.idleSettleMs} ms idle; USS ${mb(uss)}`,
      figures: { pssBytes: pss, ussBytes: uss, processes: shares.length },
    });
    for (const c of cases) {
      const beating = children.slice(0, c.processes);
      tell(beating, `zmtp ${c.intervalMs}`);
      tell(children.slice(c.processes), 'zmtp 0');
      if (c.jsBeatMs !== undefined) tell(beating, `beat ${Math.round(c.jsBeatMs)}`);
      await sleep(opts.switchSettleMs);
      const cpu = await cpuOver(
        beating.map((b) => b.pid),
        // Two beat periods at least, so that every process beats in the window.
        Math.max(opts.cpuWindowMs, 2 * (c.jsBeatMs ?? 0)),
      );
      if (c.jsBeatMs !== undefined) tell(beating, 'beat 0');
      rows.push({
        key: c.key,
        section: 'baselines',
        value: percent(cpu.total),
        note:
          `${c.processes} processes (JavaScript ${cpu.js.toFixed(2)} %, libzmq I/O ${cpu.zmqIo.toFixed(2)} %) + receiver (${cpu.self.toFixed(2)} %), ` +
          `ZMTP heartbeats ${c.intervalMs} ms${c.jsBeatMs === undefined ? '' : ` + a JavaScript beat every ${Math.round(c.jsBeatMs)} ms`}, over ${Math.round(Math.max(opts.cpuWindowMs, 2 * (c.jsBeatMs ?? 0)))} ms`,
        figures: { percent: cpu.total, receiverPercent: cpu.self, jsPercent: cpu.js, zmqIoPercent: cpu.zmqIo, processes: c.processes, intervalMs: c.intervalMs },
      });
    }
  } finally {
    await Promise.all(children.map((c) => c.stop('SIGTERM', 2000)));
    await router.close();
  }
  return rows;
}
