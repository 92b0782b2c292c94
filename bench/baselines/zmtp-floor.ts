/**
 * @module Baseline: the floor of liveness. N bare Node + zeromq processes, each one DEALER
 * connected to a ROUTER here, whose links carry only libzmq's own heartbeats (PING/PONG in the
 * I/O threads, no JavaScript per beat) at 100 ms and at 1,000 ms: CPU of the processes that
 * heartbeat and of this receiver over a window, percent of one core, after the same settling
 * time arbor gets. Also the memory of such a process (PSS and USS) with N of them running, the
 * fair match for arbor's N nodes (PSS splits the shared pages among the processes that map them),
 * and the time for all of them, idle, to reconnect to a new ROUTER (the floor of a heartbeat switch).
 *
 * The processes start once, for the largest N; a smaller N is measured with only that many
 * heartbeating (the others idle without timers, and are not counted).
 */
import { mb, ms, percent } from '../format.js';
import type { Tracked } from '../children.js';
import type { BenchOptions } from '../options.js';
import { memoryShares, threadCpuOver } from '../procfs.js';
import type { Row, RowKey } from '../rows.js';
import { median } from '../stats.js';
import { BareRouter } from './bare-router.js';

const sleep = (msec: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, msec));

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

export async function zmtpFloor(opts: BenchOptions, cases: readonly FloorCase[], memoryKey: RowKey, moveKey: RowKey): Promise<Row[]> {
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
    // Idle as long as arbor's tree before its first heartbeat switch, and no pings yet: every
    // process reconnects to a new ROUTER at once (arbor's off -> 100 ms does this, nothing more).
    const moveMs = await router.move(children.length, 60_000);
    rows.push({
      key: moveKey,
      section: 'baselines',
      value: ms(moveMs),
      note: `${children.length} bare processes, idle ${opts.idleSettleMs} ms without pings, all reconnected to a new ROUTER at the same ipc path after the old one closed`,
      figures: { ms: moveMs, processes: children.length, idleMs: opts.idleSettleMs },
    });
    for (const c of cases) {
      const beating = children.slice(0, c.processes);
      tell(beating, `zmtp ${c.intervalMs}`);
      tell(children.slice(c.processes), 'zmtp 0');
      const beatMs = c.jsBeatMs === undefined ? undefined : Math.round(c.jsBeatMs);
      if (beatMs !== undefined) tell(beating, `beat ${beatMs}`);
      await sleep(opts.switchSettleMs);
      // Two beat periods at least, so that every process beats in the window.
      const windowMs = Math.max(opts.cpuWindowMs, 2 * (beatMs ?? 0));
      const { them, self } = await threadCpuOver({ them: beating.map((b) => b.pid), self: [process.pid] }, windowMs);
      if (beatMs !== undefined) tell(beating, 'beat 0');
      const cpu = { total: them.total + self.total, self: self.total, js: them.js, zmqIo: them.zmqIo };
      rows.push({
        key: c.key,
        section: 'baselines',
        value: percent(cpu.total),
        note:
          `${c.processes} processes (JavaScript ${cpu.js.toFixed(2)} %, libzmq I/O ${cpu.zmqIo.toFixed(2)} %) + receiver (${cpu.self.toFixed(2)} %), ` +
          `ZMTP heartbeats ${c.intervalMs} ms${beatMs === undefined ? '' : ` + a JavaScript beat every ${beatMs} ms`}, over ${windowMs} ms`,
        figures: { percent: cpu.total, receiverPercent: cpu.self, jsPercent: cpu.js, zmqIoPercent: cpu.zmqIo, processes: c.processes, intervalMs: c.intervalMs },
      });
    }
  } finally {
    await Promise.all(children.map((c) => c.stop('SIGTERM', 2000)));
    await router.close();
  }
  return rows;
}
