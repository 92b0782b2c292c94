/**
 * @module The targets: ratios between figures of one run, each PASS or FAIL.
 *
 * Where the issue names "unary Exec" without saying store or load, the figure is the mean of
 * store and load to the root (the throughput of both, or their p50 latencies).
 */
import { cpus } from 'node:os';
import { mb, ms, rate, us } from './format.js';
import type { Row, RowKey, TargetKey, TargetResult } from './rows.js';
import { TAKEOVER_HEARTBEAT_MS } from './options.js';

type Figures = (key: RowKey, name: string) => number | undefined;

function mean(...values: (number | undefined)[]): number | undefined {
  if (values.some((v) => v === undefined || Number.isNaN(v))) return undefined;
  return (values as number[]).reduce((a, b) => a + b, 0) / values.length;
}

interface Check {
  key: TargetKey;
  /** ≥ (at least) or ≤ (at most) `bound`. */
  at: 'least' | 'most';
  bound: number;
  /** Ratio targets print "0.62 ×"; absolute ones use `show`. */
  show?: (value: number) => string;
  value: (f: Figures) => { value: number | undefined; detail: string | undefined };
}

const both = (a: number | undefined, b: number | undefined, fmt: (v: number) => string): string | undefined =>
  a === undefined || b === undefined ? undefined : `${fmt(a)} vs ${fmt(b)}`;

function ratioOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** A start-up row at most `bound` × a bare `node -e 0` of the same run. */
function startupCheck(key: 'gatewayStart' | 'cliOneLine' | 'cliExecScript' | 'wholeRun', bound: number): Check {
  return {
    key,
    at: 'most',
    bound,
    value: (f) => {
      const measured = f(key, 'medianMs');
      const bare = f('bareNode', 'medianMs');
      const first = key === 'wholeRun' ? f('wholeRun', 'firstReplyMs') : undefined;
      const pair = both(measured, bare, ms);
      return { value: ratioOf(measured, bare), detail: pair === undefined || first === undefined ? pair : `${pair}; first reply ${ms(first)}` };
    },
  };
}

/** Liveness CPU of an idle arbor tree at most 1.25 × the ZMTP floor with as many processes at that interval. */
function floorCheck(key: 'heartbeatCpu100' | 'heartbeatCpu1000' | 'scaleCpu100' | 'scaleCpu1000', floorKey: RowKey, beatFloorKey?: RowKey): Check {
  return {
    key,
    at: 'most',
    bound: 1.25,
    value: (f) => {
      const arbor = f(key, 'percent');
      const floor = f(floorKey, 'percent');
      const nodes = f(key, 'nodes');
      const detail = both(arbor, floor, (v) => `${v.toFixed(2)} %`);
      // Where the difference lies: the JavaScript beats (the floor has none) and libzmq's I/O threads.
      const js = f(key, 'jsPercent');
      const io = both(f(key, 'zmqIoPercent'), f(floorKey, 'zmqIoPercent'), (v) => `${v.toFixed(2)} %`);
      const split = js === undefined || io === undefined ? '' : `; nodes' JavaScript ${js.toFixed(2)} %, libzmq I/O ${io}`;
      // The least that one JavaScript beat per node per beat period costs, above the same floor.
      const beatFloor = beatFloorKey === undefined ? undefined : f(beatFloorKey, 'percent');
      const withBeat = beatFloor === undefined ? '' : `; the floor + a bare JavaScript beat every B: ${beatFloor.toFixed(2)} % = ${ratioOf(beatFloor, floor)?.toFixed(2)} ×`;
      return { value: ratioOf(arbor, floor), detail: detail === undefined ? undefined : `${detail} of a core, ${nodes} nodes${split}${withBeat}` };
    },
  };
}

const CHECKS: Check[] = [
  {
    key: 'execThroughput',
    at: 'least',
    bound: 0.7,
    value: (f) => {
      const exec = mean(f('execStoreRoot64', 'opsPerSec'), f('execLoadRoot64', 'opsPerSec'));
      const echo = f('echoUnary64', 'opsPerSec');
      return { value: ratioOf(exec, echo), detail: both(exec, echo, (v) => rate(v)) };
    },
  },
  {
    key: 'execLatency',
    at: 'most',
    bound: 1.5,
    value: (f) => {
      const exec = mean(f('execStoreRoot1', 'p50Ms'), f('execLoadRoot1', 'p50Ms'));
      const echo = f('echoUnary1', 'p50Ms');
      const relay = f('echoRelay1', 'p50Ms');
      const detail = both(exec, echo, ms);
      const floor = relay === undefined || echo === undefined ? undefined : `floor, the echo + 1 zeromq round trip: ${ms(relay)} = ${(relay / echo).toFixed(2)} ×`;
      return { value: ratioOf(exec, echo), detail: [detail, floor].filter((x) => x !== undefined).join('; ') || undefined };
    },
  },
  {
    key: 'sessionVsZmq',
    at: 'least',
    bound: 0.8,
    value: (f) => {
      const session = f('session', 'opsPerSec');
      const zmq = f('zmqEchoWindow', 'opsPerSec');
      const stream = f('echoStream', 'opsPerSec');
      const detail = both(session, zmq, (v) => rate(v, '/s'));
      return {
        value: ratioOf(session, zmq),
        detail: detail === undefined || stream === undefined ? detail : `${detail}; grpc-js echo stream ${rate(stream, '/s')}`,
      };
    },
  },
  {
    key: 'sessionVsUnary',
    at: 'least',
    bound: 5,
    value: (f) => {
      const session = f('session', 'opsPerSec');
      const exec = mean(f('execStoreRoot64', 'opsPerSec'), f('execLoadRoot64', 'opsPerSec'));
      return { value: ratioOf(session, exec), detail: both(session, exec, (v) => rate(v, '/s')) };
    },
  },
  {
    key: 'cliVsSession',
    at: 'most',
    bound: 1.5,
    value: (f) => {
      const cli = f('cli', 'seconds');
      const session = f('session', 'seconds');
      return { value: ratioOf(cli, session), detail: both(cli, session, (v) => `${v.toFixed(2)} s`) };
    },
  },
  {
    // The bound: a tree hop at most 1.2 × a bare JavaScript relay at the same depth (the
    // floor of a hop that wakes a process on the way down and on the way up).
    key: 'hop',
    at: 'most',
    bound: 1.2,
    value: (f) => {
      const hop = f('hop', 'perHopMs');
      const relay = f('relayHop', 'perHopMs');
      const rtt = f('zmqEcho1', 'p50Ms');
      const pair = both(hop, relay, us);
      const rttNote = rtt === undefined ? '' : `; a zeromq round trip p50 ${us(rtt)}`;
      return { value: ratioOf(hop, relay), detail: pair === undefined ? undefined : `${pair} (a bare relay chain of the same depth${rttNote})` };
    },
  },
  {
    key: 'createSpare',
    at: 'most',
    bound: 0.25,
    value: (f) => {
      const create = f('createSpare', 'p50Ms');
      const bare = f('bareStart', 'medianMs');
      return { value: ratioOf(create, bare), detail: both(create, bare, ms) };
    },
  },
  {
    key: 'createSequential',
    at: 'most',
    bound: 0.5,
    value: (f) => {
      const create = f('createSequential', 'p50Ms');
      const bare = f('bareStart', 'medianMs');
      return { value: ratioOf(create, bare), detail: both(create, bare, ms) };
    },
  },
  {
    key: 'createConcurrent',
    at: 'least',
    bound: 3,
    value: (f) => {
      const atOnce = f('createConcurrent', 'nodesPerSec');
      const sequential = f('createSequential', 'nodesPerSec');
      const detail = both(atOnce, sequential, (v) => rate(v, 'nodes/s'));
      // Starting a process costs CPU: with every core busy starting processes, the rate cannot
      // exceed cores / CPU per start, i.e. this many times the one-at-a-time rate.
      const cpuMs = f('bareStart', 'cpuMs');
      const perCreate = f('createSequential', 'meanMs');
      const ceiling = cpuMs === undefined || perCreate === undefined || cpuMs === 0 ? undefined : (cpus().length * perCreate) / cpuMs;
      return {
        value: ratioOf(atOnce, sequential),
        detail: detail === undefined || ceiling === undefined ? detail : `${detail}; CPU-bound ceiling ≈ ${ceiling.toFixed(1)} ×`,
      };
    },
  },
  {
    key: 'nodeMemory',
    at: 'most',
    bound: 1.0,
    value: (f) => {
      const node = f('scaleMemory', 'pssBytes');
      const bare = f('bareMemory', 'pssBytes');
      const nodeUss = f('scaleMemory', 'ussBytes');
      const bareUss = f('bareMemory', 'ussBytes');
      const detail = both(node, bare, mb);
      return { value: ratioOf(node, bare), detail: detail === undefined ? undefined : `${detail}; USS ${both(nodeUss, bareUss, mb) ?? '?'}` };
    },
  },
  {
    key: 'totalMemory',
    at: 'most',
    bound: 3.5e9,
    show: (v) => `${(v / 1e9).toFixed(2)} GB`,
    value: (f) => {
      const nodes = f('scaleMemory', 'nodes');
      return { value: f('scaleMemory', 'totalPssBytes'), detail: nodes === undefined ? undefined : `gateway and every process of a ${nodes}-node tree` };
    },
  },
  floorCheck('heartbeatCpu100', 'floor100'),
  floorCheck('heartbeatCpu1000', 'floor1000', 'floorBeat1000'),
  floorCheck('scaleCpu100', 'scaleFloor100'),
  floorCheck('scaleCpu1000', 'scaleFloor1000'),
  {
    key: 'scaleCpuOff',
    at: 'most',
    bound: 1,
    show: (v) => `${v.toFixed(2)} %`,
    value: (f) => {
      const nodes = f('scaleCpuOff', 'nodes');
      return { value: f('scaleCpuOff', 'percent'), detail: nodes === undefined ? undefined : `${nodes} idle nodes, gateway included` };
    },
  },
  {
    key: 'scaleSwitch',
    at: 'most',
    bound: 1000,
    show: ms,
    value: (f) => {
      const nodes = f('scaleSwitch', 'nodes');
      const max = f('scaleSwitch', 'maxMs');
      return { value: f('scaleSwitch', 'p50Ms'), detail: nodes === undefined || max === undefined ? undefined : `${nodes} nodes, off → 100 → 1000 → off; slowest ${ms(max)}` };
    },
  },
  {
    // The slowest switch (off -> 100 ms: idle nodes, no pings) against the same number of bare
    // idle processes reconnecting to a new ROUTER: what arbor adds to the move itself.
    key: 'scaleSwitchVsMove',
    at: 'most',
    bound: 1.25,
    show: (v) => `${v.toFixed(2)} ×`,
    value: (f) => {
      const slowest = f('scaleSwitch', 'maxMs');
      const move = f('scaleFloorMove', 'ms');
      const detail = both(slowest, move, ms);
      return { value: ratioOf(slowest, move), detail: detail === undefined ? undefined : `${detail} (${f('scaleFloorMove', 'processes') ?? '?'} bare processes)` };
    },
  },
  {
    // The bound: the page stays responsive (a frame under 50 ms at p95) while 400 nodes switch interval and rotate.
    key: 'scaleWebFrames',
    at: 'most',
    bound: 50,
    show: ms,
    value: (f) => {
      const frames = f('scaleWebFrames', 'frames');
      const nodes = f('scaleWebFrames', 'nodes');
      return { value: f('scaleWebFrames', 'p95Ms'), detail: frames === undefined ? undefined : `${frames} frames, ${nodes} nodes` };
    },
  },
  {
    key: 'scaleSwitchEvents',
    at: 'most',
    bound: 0,
    show: (v) => `${v}`,
    value: (f) => {
      const nodes = f('scaleSwitch', 'nodes');
      return { value: f('scaleSwitch', 'unavailableEvents'), detail: nodes === undefined ? undefined : `${nodes} idle nodes, from each switch to the next` };
    },
  },
  {
    key: 'scaleBuild',
    at: 'most',
    bound: 1.2,
    value: (f) => {
      const seconds = f('scaleBuildConcurrent', 'seconds');
      const nodes = f('scaleBuildConcurrent', 'nodes');
      const cpuMs = f('bareStart', 'cpuMs');
      const floor = nodes === undefined || cpuMs === undefined ? undefined : (nodes * cpuMs) / 1000 / cpus().length;
      const detail = both(seconds, floor, (v) => `${v.toFixed(1)} s`);
      return { value: ratioOf(seconds, floor), detail: detail === undefined ? undefined : `${detail} (${nodes} × ${ms(cpuMs)} of CPU per bare start ÷ ${cpus().length} cores)` };
    },
  },
  startupCheck('gatewayStart', 1.5),
  startupCheck('cliOneLine', 1.5),
  startupCheck('cliExecScript', 2),
  startupCheck('wholeRun', 5),
  {
    key: 'restart',
    at: 'most',
    bound: 1.5,
    value: (f) => {
      const restart = f('restart', 'p50Ms');
      const bare = f('bareStart', 'medianMs');
      return { value: ratioOf(restart, bare), detail: both(restart, bare, ms) };
    },
  },
  {
    key: 'storeLog',
    at: 'least',
    bound: 0.8,
    value: (f) => {
      const log = f('storeLog', 'opsPerSec');
      const memory = f('storeMemory', 'opsPerSec');
      const fsync = f('storeFsync', 'opsPerSec');
      const detail = both(log, memory, (v) => rate(v, '/s'));
      return {
        value: ratioOf(log, memory),
        detail: detail === undefined || fsync === undefined || memory === undefined ? detail : `${detail}; with --fsync ${rate(fsync, '/s')} = ${(fsync / memory).toFixed(2)} ×`,
      };
    },
  },
  {
    // Two copies: each store waits for the follower's ack (one more hop and log append).
    key: 'storeReplicas2',
    at: 'least',
    bound: 0.5,
    value: (f) => {
      const two = f('storeReplicas2', 'opsPerSec');
      const one = f('storeLog', 'opsPerSec');
      return { value: ratioOf(two, one), detail: both(two, one, (v) => rate(v, '/s')) };
    },
  },
  {
    // The bound: every node of a lost host available again within 4T + 1 s (T the heartbeat).
    key: 'takeover',
    at: 'most',
    bound: 4 * TAKEOVER_HEARTBEAT_MS + 1000,
    show: ms,
    value: (f) => {
      const trials = f('takeover', 'trials');
      const detect = f('takeover', 'detectMs');
      const max = f('takeover', 'maxMs');
      return {
        value: f('takeover', 'p50Ms'),
        detail: trials === undefined || detect === undefined || max === undefined ? undefined : `p50 of ${trials} host losses, slowest ${ms(max)}; 4T + 1 s at T = ${TAKEOVER_HEARTBEAT_MS} ms; the loss noticed after ${ms(detect)}`,
      };
    },
  },
  {
    key: 'sortedDeep',
    at: 'most',
    bound: 3,
    value: (f) => {
      const deep = f('sortedDeep', 'deepP50Ms');
      const root = f('sortedDeep', 'rootP50Ms');
      const depth = f('sortedBuild', 'depth');
      const bound = f('sortedBuild', 'bound');
      const detail = both(deep, root, ms);
      return { value: ratioOf(deep, root), detail: detail === undefined ? undefined : `${detail}; depth ${depth} (AVL bound ${bound})` };
    },
  },
  {
    // No second copy of the map while it lists: only a sorted array of references to its names.
    key: 'keysMemory',
    at: 'most',
    bound: 1.25,
    value: (f) => {
      const before = f('keysList', 'pssBefore');
      const during = f('keysList', 'pssDuring');
      const names = f('keysList', 'names');
      const detail = both(during, before, mb);
      return { value: ratioOf(during, before), detail: detail === undefined ? undefined : `${detail}, ${names} names` };
    },
  },
  {
    key: 'deleteVsStore',
    at: 'least',
    bound: 0.8,
    value: (f) => {
      const deletes = f('deleteSession', 'opsPerSec');
      const stores = f('deleteSession', 'storeOpsPerSec');
      return { value: ratioOf(deletes, stores), detail: both(deletes, stores, (v) => rate(v, '/s')) };
    },
  },
];

export function evaluateTargets(rows: readonly Row[]): TargetResult[] {
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const figures: Figures = (key, name) => {
    const v = byKey.get(key)?.figures[name];
    return v === undefined || Number.isNaN(v) ? undefined : v;
  };
  return CHECKS.map((check) => {
    const { value, detail } = check.value(figures);
    const show = check.show ?? ((v: number) => `${v.toFixed(2)} ×`);
    const target = `${check.at === 'least' ? '≥' : '≤'} ${show(check.bound)}`;
    if (value === undefined) return { key: check.key, measured: 'n/a', target, pass: undefined };
    const pass = check.at === 'least' ? value >= check.bound : value <= check.bound;
    return { key: check.key, measured: show(value), target, pass, ratio: value, ...(detail !== undefined && { detail }) };
  });
}
