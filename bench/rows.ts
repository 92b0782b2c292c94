/**
 * @module The rows of the benchmark table: their stable labels (the smoke test looks for each
 * one) and the shape of a measured row. Labels name no counts, which differ in `--quick`; each
 * row's note gives them (63 nodes, depth 5, 31 nodes... in a full run).
 */

export const ROW_LABELS = {
  echoUnary1: 'grpc-js echo, unary, concurrency 1',
  echoRelay1: 'grpc-js echo + 1 zeromq round trip, concurrency 1',
  echoUnary64: 'grpc-js echo, unary, concurrency 64',
  echoStream: 'grpc-js echo, bidi stream, 1024 in flight',
  zmqEcho1: 'zeromq echo, 1 in flight',
  zmqEchoWindow: 'zeromq echo, 1000 in flight',
  relayHop: 'bare relay chain, added latency per relay',
  bareStart: 'bare node + zeromq, start',
  bareNode: 'bare node, start to exit',
  bareMemory: 'bare node + zeromq ×scale size, idle PSS',
  scaleFloorMove: 'bare node + zeromq ×scale size, idle: all reconnect to a new ROUTER',
  floor100: 'bare node + zeromq ×tree size, ZMTP heartbeats 100 ms, CPU',
  floor1000: 'bare node + zeromq ×tree size, ZMTP heartbeats 1000 ms, CPU',
  scaleFloor100: 'bare node + zeromq ×scale size, ZMTP heartbeats 100 ms, CPU',
  scaleFloor1000: 'bare node + zeromq ×scale size, ZMTP heartbeats 1000 ms, CPU',
  floorBeat1000: 'bare node + zeromq ×tree size, ZMTP 1000 ms + a JavaScript beat every B, CPU',
  execStoreRoot1: 'Exec store, root, concurrency 1',
  execLoadRoot1: 'Exec load, root, concurrency 1',
  execStoreRoot64: 'Exec store, root, concurrency 64',
  execLoadRoot64: 'Exec load, root, concurrency 64',
  execStoreDeep1: 'Exec store, deep leaf, concurrency 1',
  execLoadDeep1: 'Exec load, deep leaf, concurrency 1',
  execStoreDeep64: 'Exec store, deep leaf, concurrency 64',
  execLoadDeep64: 'Exec load, deep leaf, concurrency 64',
  session: 'Session, 1024 in flight',
  cli: 'CLI, piped script',
  createSpare: 'create, one at a time, a spare ready',
  createSequential: 'create the tree, one at a time',
  createConcurrent: 'create the tree, all at once',
  hop: 'added latency per tree hop',
  heartbeatCpu100: 'heartbeat 100 ms, idle tree, CPU',
  heartbeatCpu1000: 'heartbeat 1000 ms, idle tree, CPU',
  heartbeatSwitch: 'heartbeat switch, idle tree: answer p50',
  detectStop: 'detection latency, SIGSTOP of a leaf',
  detectKill: 'detection latency, kill -9 of a leaf',
  restart: 'restart in place, kill -9 → available',
  storeMemory: 'Session stores, in memory',
  storeLog: 'Session stores, write-ahead log',
  storeFsync: 'Session stores, log + fsync',
  storeReplicas2: 'Session stores, log, 2 copies',
  takeover: 'takeover after a host loss',
  catchUp: 'catch-up of a new follower',
  sortedBuild: 'sorted inserts, balanced: depth',
  sortedDeep: 'sorted inserts, balanced: load p50 deepest',
  scaleBuildSequential: 'scale: build, one create at a time',
  scaleBuildConcurrent: 'scale: build, 16 creates in flight',
  scaleMemory: 'scale: idle node PSS',
  scaleCpuOff: 'scale: heartbeats off, idle, CPU',
  scaleCpu100: 'scale: heartbeat 100 ms, idle, CPU',
  scaleCpu1000: 'scale: heartbeat 1000 ms, idle, CPU',
  scaleSwitch: 'scale: heartbeat switch, idle: answer p50',
  scaleDetectStop: 'scale: detection latency, SIGSTOP of a leaf',
  scaleDeep: 'scale: load p50 deepest',
  scaleWebFrames: 'scale: web view frame time p95, switches + rotations',
  gatewayStart: 'start-up: gateway to listening',
  cliOneLine: 'start-up: CLI, one-line script',
  cliExecScript: 'start-up: CLI, 4,000-line script',
  wholeRun: 'start-up: npm start, whole script',
  keysList: 'keys: list one node completely',
  deleteSession: 'Session deletes, write-ahead log',
  dump: 'dump: every node, every name',
} as const;

export type RowKey = keyof typeof ROW_LABELS;

export const TARGET_LABELS = {
  execThroughput: 'unary Exec c=64 ops/s vs grpc-js echo c=64',
  execLatency: 'unary Exec c=1 p50 (root) vs grpc-js echo p50',
  sessionVsZmq: 'Session cmds/s vs zeromq pipelined echo',
  sessionVsUnary: 'Session cmds/s vs unary Exec c=64',
  cliVsSession: 'CLI script time vs Session time',
  hop: 'added p50 latency per tree hop vs bare relay',
  createSpare: 'create p50, a spare ready, vs bare start',
  createSequential: 'create one at a time vs bare start',
  createConcurrent: 'create all at once rate vs one at a time',
  nodeMemory: 'idle node PSS vs bare node + zeromq',
  totalMemory: 'scale: total PSS',
  heartbeatCpu100: 'heartbeat 100 ms CPU vs ZMTP floor, tree',
  heartbeatCpu1000: 'heartbeat 1000 ms CPU vs ZMTP floor, tree',
  scaleCpu100: 'heartbeat 100 ms CPU vs ZMTP floor, scale',
  scaleCpu1000: 'heartbeat 1000 ms CPU vs ZMTP floor, scale',
  scaleCpuOff: 'scale: heartbeats off, idle CPU',
  scaleSwitch: 'scale: heartbeat switch answered, p50',
  scaleSwitchEvents: 'scale: false unavailable events in switches',
  scaleSwitchVsMove: 'scale: slowest heartbeat switch vs bare reconnect of as many',
  scaleBuild: 'scale build, 16 in flight, vs start CPU / cores',
  scaleWebFrames: 'scale: web view frame time p95 under churn',
  restart: 'restart p50 vs bare start',
  storeLog: 'stores/s with a log vs in memory',
  sortedDeep: 'balanced: p50 deepest vs root',
  gatewayStart: 'gateway spawn → listening vs bare start',
  cliOneLine: 'CLI one-line script vs bare start',
  cliExecScript: 'CLI 4,000-line script vs bare start',
  wholeRun: 'whole run, 5 creates + 4,000 execs, vs bare start',
  keysMemory: 'keys: node PSS while listing vs before',
  deleteVsStore: 'Session deletes/s vs stores/s, with a log',
  storeReplicas2: 'stores/s with 2 copies vs 1 (--replicas 2)',
  takeover: 'host loss: takeover p50, heartbeat 100 ms',
} as const;

export type TargetKey = keyof typeof TARGET_LABELS;

export type Section = 'baselines' | 'arbor';

const BASELINE_KEYS: ReadonlySet<RowKey> = new Set([
  'echoUnary1',
  'echoRelay1',
  'echoUnary64',
  'echoStream',
  'zmqEcho1',
  'zmqEchoWindow',
  'relayHop',
  'bareStart',
  'bareNode',
  'bareMemory',
  'scaleFloorMove',
  'floor100',
  'floor1000',
  'scaleFloor100',
  'scaleFloor1000',
  'floorBeat1000',
]);

export function sectionOf(key: RowKey): Section {
  return BASELINE_KEYS.has(key) ? 'baselines' : 'arbor';
}

export interface Row {
  key: RowKey;
  section: Section;
  /** The main figure, formatted (e.g. "10,234 ops/s"); "n/a (...)" when it could not be measured. */
  value: string;
  p50Ms?: number;
  p99Ms?: number;
  /** Parameters and side figures, in words. */
  note?: string;
  /** Raw figures for the JSON and the targets. */
  figures: Record<string, number>;
}

export interface TargetResult {
  key: TargetKey;
  /** The measured figure, formatted (e.g. "0.82 ×", "31 µs"). */
  measured: string;
  /** The target, formatted (e.g. "≥ 0.7 ×"). */
  target: string;
  /** undefined when an input is missing (printed as n/a, counts as FAIL). */
  pass: boolean | undefined;
  /** The inputs of the comparison, in words. */
  detail?: string;
  ratio?: number;
}
