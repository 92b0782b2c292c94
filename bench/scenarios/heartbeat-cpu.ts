/**
 * @module arbor: CPU used by liveness with every node idle, at each heartbeat interval asked
 * for and with heartbeats off: CPU time of the gateway and all its children (the nodes and the
 * pool's spares), by kind of thread, from schedstat (procfs.ts) over a window, percent of one
 * core, measured after the same settling time as the floor (baselines/zmtp-floor.ts). A Watch
 * counts `unavailable` events meanwhile (there must be none: every node is alive), and a Ping of
 * the root every 200 ms during the settling time shows that the gateway still answers.
 */
import { NodeEventKind, type PingResponse, type WatchResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { ms, percent } from '../format.js';
import { type Gateway, heartbeat } from '../gateway.js';
import type { BenchOptions } from '../options.js';
import { threadCpuOver } from '../procfs.js';
import type { Row, RowKey } from '../rows.js';
import { summarize } from '../stats.js';
import { unaryCall } from '../unary-call.js';

const sleep = (msec: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, msec));

/** Round trips of a Ping of `root` every 200 ms for `windowMs`. */
async function pingFor(client: ReturnType<Gateway['client']>, root: number, windowMs: number): Promise<number[]> {
  const pings: number[] = [];
  const end = performance.now() + windowMs;
  while (performance.now() < end) {
    const t0 = performance.now();
    await unaryCall<PingResponse>((cb) => client.ping({ id: root }, cb));
    pings.push(performance.now() - t0);
    await sleep(200);
  }
  return pings;
}

export interface HeartbeatCase {
  key: RowKey;
  /** 0: heartbeats off. */
  intervalMs: number;
}

export async function heartbeatCpu(gateway: Gateway, root: number, nodes: number, cases: readonly HeartbeatCase[], opts: BenchOptions): Promise<Row[]> {
  const client = gateway.client();
  const watch = client.watch({});
  let unavailable = 0;
  watch.on('data', (res: WatchResponse) => {
    if (res.event?.kind === NodeEventKind.NODE_EVENT_KIND_UNAVAILABLE) unavailable++;
  });
  watch.on('error', () => undefined);
  const rows: Row[] = [];
  try {
    for (const c of cases) {
      const before = unavailable;
      await heartbeat(client, c.intervalMs);
      // The Pings run in the settling time, not in the CPU window: each one is a gRPC call and
      // a hop to the root, work that the idle figure must not carry.
      const pings = await pingFor(client, root, opts.switchPingMs);
      await sleep(Math.max(0, opts.switchSettleMs - opts.switchPingMs));
      const children = gateway.nodePids();
      const split = await threadCpuOver({ gateway: [gateway.pid], children }, opts.cpuWindowMs);
      const cpu = { ...split.children, total: split.gateway.total + split.children.total, gateway: split.gateway.total, processes: children.length };
      const ping = summarize(pings);
      const events = unavailable - before;
      rows.push({
        key: c.key,
        section: 'arbor',
        value: percent(cpu.total),
        note:
          `${nodes} nodes, heartbeat ${c.intervalMs === 0 ? 'off' : `${c.intervalMs} ms`}: gateway ${cpu.gateway.toFixed(2)} % + ${cpu.processes} processes ` +
          `(nodes and spares: JavaScript ${cpu.js.toFixed(2)} %, libzmq I/O ${cpu.zmqIo.toFixed(2)} %, other ${cpu.other.toFixed(2)} %) over ${opts.cpuWindowMs} ms; ` +
          `root Ping p50 ${ms(ping.p50Ms)}, max ${ms(ping.maxMs)}; unavailable events: ${events}`,
        figures: {
          percent: cpu.total,
          gatewayPercent: cpu.gateway,
          jsPercent: cpu.js,
          zmqIoPercent: cpu.zmqIo,
          otherPercent: cpu.other,
          nodes,
          intervalMs: c.intervalMs,
          windowMs: opts.cpuWindowMs,
          unavailableEvents: events,
          pingP50Ms: ping.p50Ms,
          pingMaxMs: ping.maxMs,
        },
      });
    }
    await heartbeat(client, 0);
  } finally {
    watch.cancel();
  }
  return rows;
}
