/**
 * @module arbor: CPU used by heartbeats at 100 ms with every node idle: utime + stime of the
 * gateway and all its nodes from /proc/<pid>/stat over a window, as percent of one core.
 * The same window with heartbeats off is measured first, for reference; a Watch stream counts
 * "unavailable" events meanwhile (there should be none: every node is alive).
 */
import { NodeEventKind, type WatchResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { percent } from '../format.js';
import { type Gateway, heartbeat } from '../gateway.js';
import type { BenchOptions } from '../options.js';
import { clockTicksPerSecond, cpuTicks } from '../procfs.js';
import type { Row } from '../rows.js';

const sleep = (msec: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, msec));

/** Percent of one core used by the gateway and by its nodes over `windowMs`. */
async function cpuPercent(gateway: Gateway, windowMs: number): Promise<{ total: number; gateway: number }> {
  const nodes = gateway.nodePids();
  const sum = (pids: number[]): number => pids.reduce((acc, pid) => acc + cpuTicks(pid), 0);
  const gateway0 = cpuTicks(gateway.pid);
  const nodes0 = sum(nodes);
  const t0 = performance.now();
  await sleep(windowMs);
  const gatewayTicks = cpuTicks(gateway.pid) - gateway0;
  const nodeTicks = sum(nodes) - nodes0;
  const perTick = 100 / clockTicksPerSecond() / ((performance.now() - t0) / 1000);
  return { total: (gatewayTicks + nodeTicks) * perTick, gateway: gatewayTicks * perTick };
}

export async function heartbeatCpu(gateway: Gateway, opts: BenchOptions): Promise<Row> {
  const client = gateway.client();
  const watch = client.watch({});
  let unavailable = 0;
  watch.on('data', (res: WatchResponse) => {
    if (res.event?.kind === NodeEventKind.NODE_EVENT_KIND_UNAVAILABLE) unavailable++;
  });
  watch.on('error', () => undefined);
  try {
    const off = await cpuPercent(gateway, Math.min(opts.cpuWindowMs, 2000));
    await heartbeat(client, 100);
    await sleep(opts.idleSettleMs);
    const on = await cpuPercent(gateway, opts.cpuWindowMs);
    await heartbeat(client, 0);
    const nodes = gateway.nodePids().length;
    return {
      key: 'heartbeatCpu',
      section: 'arbor',
      value: percent(on.total),
      note:
        `gateway (${on.gateway.toFixed(2)} %) + ${nodes} nodes over ${opts.cpuWindowMs} ms; ` +
        `heartbeats off: ${off.total.toFixed(2)} %; unavailable events: ${unavailable}`,
      figures: {
        percent: on.total,
        gatewayPercent: on.gateway,
        offPercent: off.total,
        nodes,
        windowMs: opts.cpuWindowMs,
        unavailableEvents: unavailable,
      },
    };
  } finally {
    watch.cancel();
  }
}
