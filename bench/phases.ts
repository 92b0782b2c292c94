/**
 * @module The benchmark's phases, in the order they run. Each phase starts what it needs (an
 * echo server, a gateway and its tree), emits its rows as soon as each is measured, and stops
 * everything it started before the next phase begins, so phases never compete for the CPU.
 */
import { bareStartBaselines } from './baselines/bare-start.js';
import { grpcEchoBaselines } from './baselines/grpc-echo.js';
import { zmqEchoBaselines } from './baselines/zmq-echo.js';
import { relayChainBaseline } from './baselines/relay-chain.js';
import { zmtpFloor } from './baselines/zmtp-floor.js';
import { Gateway } from './gateway.js';
import type { BenchOptions } from './options.js';
import type { Row, RowKey } from './rows.js';
import { cliScript } from './scenarios/cli-script.js';
import { createAllAtOnce, createOneAtATime, createWithSpare } from './scenarios/create.js';
import { detectionLatency } from './scenarios/detection.js';
import { dictionary } from './scenarios/dictionary.js';
import { heartbeatCpu, switchRow } from './scenarios/heartbeat-cpu.js';
import { hopLatency } from './scenarios/hop-latency.js';
import { startup } from './scenarios/startup.js';
import { restartLatency } from './scenarios/restart.js';
import { replication } from './scenarios/replication.js';
import { scale } from './scenarios/scale.js';
import { sortedBalanced } from './scenarios/sorted-balanced.js';
import { storeThroughput } from './scenarios/store-throughput.js';
import { sessionRun } from './scenarios/session.js';
import { unaryExec } from './scenarios/unary-exec.js';
import { balancedDepth, balancedOrder, chainOrder } from './tree.js';
import { DEFAULT_POOL_SIZE } from '../control/index.js';
import { DEFAULT_LIVENESS, livenessTimings } from '../link/index.js';

export interface Phase {
  name: string;
  /** The rows it measures (those not emitted when it fails are shown as n/a). */
  keys: readonly RowKey[];
  run(opts: BenchOptions, emit: (row: Row) => void): Promise<void>;
}

async function withGateway(use: (gateway: Gateway) => Promise<void>, args: readonly string[] = []): Promise<void> {
  const gateway = await Gateway.start({ args });
  try {
    await use(gateway);
  } finally {
    await gateway.stop();
  }
}

const sleep = (msec: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, msec));

export const PHASES: readonly Phase[] = [
  {
    name: 'grpc-js echo',
    keys: ['echoUnary1', 'echoRelay1', 'echoUnary64', 'echoStream'],
    run: async (opts, emit) => (await grpcEchoBaselines(opts)).forEach(emit),
  },
  {
    name: 'zeromq echo',
    keys: ['zmqEcho1', 'zmqEchoWindow'],
    run: async (opts, emit) => (await zmqEchoBaselines(opts)).forEach(emit),
  },
  {
    name: 'start-up (bare node, gateway, CLI, npm start)',
    keys: ['bareNode', 'gatewayStart', 'cliOneLine', 'cliExecScript', 'wholeRun'],
    run: async (opts, emit) => (await startup(opts)).forEach(emit),
  },
  {
    name: 'bare relay chain',
    keys: ['relayHop'],
    run: async (opts, emit) => emit(await relayChainBaseline(opts)),
  },
  {
    name: 'bare node + zeromq',
    keys: ['bareStart'],
    run: async (opts, emit) => (await bareStartBaselines(opts)).forEach(emit),
  },
  {
    name: 'heartbeat floor (bare processes, ZMTP heartbeats)',
    keys: ['bareMemory', 'scaleFloorMove', 'floor100', 'floor1000', 'floorBeat1000', 'scaleFloor100', 'scaleFloor1000'],
    run: async (opts, emit) => {
      const tree = 2 ** opts.treeLevels - 1;
      const cases = [
        { key: 'floor100', processes: tree, intervalMs: 100 },
        { key: 'floor1000', processes: tree, intervalMs: 1000 },
        { key: 'floorBeat1000', processes: tree, intervalMs: 1000, jsBeatMs: livenessTimings({ ...DEFAULT_LIVENESS, intervalMs: 1000 }).beatMs },
        { key: 'scaleFloor100', processes: opts.scaleNodes, intervalMs: 100 },
        { key: 'scaleFloor1000', processes: opts.scaleNodes, intervalMs: 1000 },
      ] as const;
      (await zmtpFloor(opts, cases, 'bareMemory', 'scaleFloorMove')).forEach(emit);
    },
  },
  {
    name: 'arbor, balanced tree built one at a time',
    keys: [
      'createSpare',
      'createSequential',
      'execStoreRoot1',
      'execLoadRoot1',
      'execStoreRoot64',
      'execLoadRoot64',
      'execStoreDeep1',
      'execLoadDeep1',
      'execStoreDeep64',
      'execLoadDeep64',
      'session',
      'cli',
    ],
    run: (opts, emit) =>
      withGateway(
        async (gateway) => {
          const client = gateway.client();
          const ids = balancedOrder(opts.treeLevels);
          // The top levels as a person at the console creates them (a spare ready each time), the rest back to back.
          const spared = ids.slice(0, 2 ** (opts.treeLevels - 2) - 1);
          emit(await createWithSpare(gateway, client, spared, DEFAULT_POOL_SIZE));
          emit(await createOneAtATime(client, ids.slice(spared.length)));
          const root = { id: ids[0] as number, depth: 0 };
          const deep = { id: 1, depth: balancedDepth(1, opts.treeLevels) }; // a leaf: depth 5 of 63 nodes
          for (const row of await unaryExec(client, gateway.pid, root, deep, opts)) emit(row);
          // The Session and the CLI spread over the nodes above the leaves (31 of 63, depths 0 to 4).
          const upper = ids.filter((id) => balancedDepth(id, opts.treeLevels) < opts.treeLevels - 1);
          emit(await sessionRun(client, gateway.pid, upper, opts));
          emit(await cliScript(gateway.address, upper, opts));
        },
        ['--metrics-listen', '127.0.0.1:0'],
      ),
  },
  {
    name: 'arbor, balanced tree built all at once',
    keys: ['createConcurrent', 'heartbeatCpu100', 'heartbeatCpu1000', 'heartbeatSwitch'],
    run: (opts, emit) =>
      withGateway(async (gateway) => {
        const ids = balancedOrder(opts.treeLevels);
        emit(await createAllAtOnce(gateway.client(), ids));
        await sleep(opts.idleSettleMs);
        const cases = [
          { key: 'heartbeatCpu100', intervalMs: 100 },
          { key: 'heartbeatCpu1000', intervalMs: 1000 },
        ] as const;
        const { rows, switches } = await heartbeatCpu(gateway, ids[0] as number, ids.length, cases, opts);
        for (const row of rows) emit(row);
        emit(switchRow('heartbeatSwitch', ids.length, switches));
      }),
  },
  {
    name: 'arbor, chain from sorted inserts (--balance off)',
    keys: ['hop'],
    run: (opts, emit) =>
      withGateway(
        async (gateway) => {
          const client = gateway.client();
          const chain = chainOrder(opts.chainLength);
          await createOneAtATime(client, chain);
          emit(await hopLatency(client, chain, opts));
        },
        ['--balance', 'off'],
      ),
  },
  {
    name: 'arbor, sorted inserts balanced',
    keys: ['sortedBuild', 'sortedDeep'],
    run: (opts, emit) => withGateway(async (gateway) => (await sortedBalanced(gateway.client(), opts)).forEach(emit)),
  },
  {
    name: 'arbor, failure detection',
    keys: ['detectStop', 'detectKill'],
    run: (opts, emit) =>
      withGateway(async (gateway) => {
        for (const row of await detectionLatency(gateway, opts.detectionTrials)) emit(row);
      }),
  },
  {
    name: 'arbor, restart in place',
    keys: ['restart'],
    run: (opts, emit) => withGateway(async (gateway) => emit(await restartLatency(gateway, opts))),
  },
  {
    name: 'arbor, store throughput: memory, log, fsync, 2 copies',
    keys: ['storeMemory', 'storeLog', 'storeFsync', 'storeReplicas2'],
    run: (opts, emit) => storeThroughput(opts, emit),
  },
  {
    name: 'arbor, replication: takeover and catch-up',
    keys: ['takeover', 'catchUp'],
    run: (opts, emit) => replication(opts, emit),
  },
  {
    name: 'arbor, dictionary: keys, delete, dump',
    keys: ['keysList', 'deleteSession', 'dump'],
    run: (opts, emit) => dictionary(opts, emit),
  },
  {
    name: 'arbor, scale',
    keys: ['scaleBuildSequential', 'scaleMemory', 'scaleCpuOff', 'scaleCpu100', 'scaleCpu1000', 'scaleSwitch', 'scaleDetectStop', 'scaleDeep', 'scaleBuildConcurrent', 'scaleWebFrames'],
    run: (opts, emit) => scale(opts, emit),
  },
];
