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

/** One Heartbeat call: from and to which interval, how long it took to answer, and the `unavailable` events from it to the next (there must be none). */
export interface Switch {
  fromMs: number;
  toMs: number;
  ms: number;
  unavailableEvents: number;
}

/**
 * The CPU rows of `cases` (each after a switch to its interval), then a last switch to off; also
 * every switch's time and the false events that followed it.
 */
export async function heartbeatCpu(
  gateway: Gateway,
  root: number,
  nodes: number,
  cases: readonly HeartbeatCase[],
  opts: BenchOptions,
): Promise<{ rows: Row[]; switches: Switch[] }> {
  const client = gateway.client();
  const watch = client.watch({ backlog: 0 });
  let unavailable = 0;
  watch.on('data', (res: WatchResponse) => {
    if (res.event?.kind === NodeEventKind.NODE_EVENT_KIND_UNAVAILABLE) unavailable++;
  });
  watch.on('error', () => undefined);
  const rows: Row[] = [];
  const switches: Switch[] = [];
  let interval = (await heartbeat(client, 0)).intervalMs;
  /** Switches to `toMs`; returns the record, its events counted by `done`. */
  const switchTo = async (toMs: number): Promise<{ done: () => Switch }> => {
    const before = unavailable;
    const t0 = performance.now();
    await heartbeat(client, toMs);
    const took = performance.now() - t0;
    const from = interval;
    interval = toMs;
    return { done: () => ({ fromMs: from, toMs, ms: took, unavailableEvents: unavailable - before }) };
  };
  try {
    for (const c of cases) {
      const before = unavailable;
      const switched = await switchTo(c.intervalMs);
      // The Pings run in the settling time, not in the CPU window: each one is a gRPC call and
      // a hop to the root, work that the idle figure must not carry.
      const pings = await pingFor(client, root, opts.switchPingMs);
      await sleep(Math.max(0, opts.switchSettleMs - opts.switchPingMs));
      const children = gateway.nodePids();
      const split = await threadCpuOver({ gateway: [gateway.pid], children }, opts.cpuWindowMs);
      const cpu = { ...split.children, total: split.gateway.total + split.children.total, gateway: split.gateway.total, processes: children.length };
      const ping = summarize(pings);
      const events = unavailable - before;
      if (c.intervalMs !== switched.done().fromMs) switches.push(switched.done());
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
          switchMs: switched.done().ms,
        },
      });
    }
    // Off again, and long enough after it for a false event to show.
    if (interval !== 0) {
      const off = await switchTo(0);
      await sleep(opts.switchPingMs);
      switches.push(off.done());
    }
  } finally {
    watch.cancel();
  }
  return { rows, switches };
}

/** The row of a set of switches: p50 of the time a Heartbeat call took to answer, every switch, and the false events after them. */
export function switchRow(key: 'heartbeatSwitch' | 'scaleSwitch', nodes: number, switches: readonly Switch[]): Row {
  const times = summarize(switches.map((s) => s.ms));
  const events = switches.reduce((sum, s) => sum + s.unavailableEvents, 0);
  const name = (msec: number): string => (msec === 0 ? 'off' : `${msec}`);
  return {
    key,
    section: 'arbor',
    value: ms(times.p50Ms),
    p50Ms: times.p50Ms,
    note: `${nodes} idle nodes: ${switches.map((s) => `${name(s.fromMs)} → ${name(s.toMs)} ${ms(s.ms)}`).join(', ')}; unavailable events after them: ${events}`,
    figures: { p50Ms: times.p50Ms, maxMs: times.maxMs, switches: switches.length, unavailableEvents: events, nodes },
  };
}
