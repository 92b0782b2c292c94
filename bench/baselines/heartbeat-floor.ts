/**
 * @module Baseline: the floor of heartbeating. 63 bare Node + zeromq processes, each sending one
 * 15-byte message every 100 ms to a ROUTER in this process: CPU of the senders and of this
 * receiver over a window (utime + stime from /proc), percent of one core. arbor's heartbeats
 * cost at least this (one message per node per interval, each received by someone).
 */
import { percent } from '../format.js';
import type { Tracked } from '../children.js';
import type { BenchOptions } from '../options.js';
import { clockTicksPerSecond, cpuTicks } from '../procfs.js';
import type { Row } from '../rows.js';
import { BareRouter } from './bare-router.js';

const sleep = (msec: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, msec));
const INTERVAL_MS = 100;

export async function heartbeatFloor(opts: BenchOptions): Promise<Row> {
  const count = 2 ** opts.treeLevels - 1;
  const router = await BareRouter.bind('beat');
  const children: Tracked[] = [];
  try {
    // A few at a time: starting 63 processes at once would only measure the machine's patience.
    for (let i = 0; i < count; i += 8) {
      children.push(...(await Promise.all(Array.from({ length: Math.min(8, count - i) }, () => router.start(INTERVAL_MS)))));
    }
    await sleep(opts.idleSettleMs);
    const pids = children.map((c) => c.pid);
    const sum = (): number => pids.reduce((acc, pid) => acc + cpuTicks(pid), 0);
    const senders0 = sum();
    const self0 = cpuTicks(process.pid);
    const received0 = router.received;
    const t0 = performance.now();
    await sleep(opts.cpuWindowMs);
    const perTick = 100 / clockTicksPerSecond() / ((performance.now() - t0) / 1000);
    const senders = (sum() - senders0) * perTick;
    const receiver = (cpuTicks(process.pid) - self0) * perTick;
    const messages = router.received - received0;
    return {
      key: 'heartbeatFloor',
      section: 'baselines',
      value: percent(senders + receiver),
      note: `${count} senders ${senders.toFixed(2)} % + receiver ${receiver.toFixed(2)} % over ${opts.cpuWindowMs} ms, ${messages} messages`,
      figures: { percent: senders + receiver, sendersPercent: senders, receiverPercent: receiver, processes: count, messages },
    };
  } finally {
    await Promise.all(children.map((c) => c.stop('SIGTERM', 2000)));
    await router.close();
  }
}
