/**
 * @module The benchmark's phases, in the order they run. Each phase starts what it needs (an
 * echo server, a gateway and its tree), emits its rows as soon as each is measured, and stops
 * everything it started before the next phase begins, so phases never compete for the CPU.
 */
import { bareStartBaselines } from './baselines/bare-start.js';
import { grpcEchoBaselines } from './baselines/grpc-echo.js';
import { heartbeatFloor } from './baselines/heartbeat-floor.js';
import { zmqEchoBaselines } from './baselines/zmq-echo.js';
import { Gateway } from './gateway.js';
import type { BenchOptions } from './options.js';
import type { Row, RowKey } from './rows.js';
import { cliScript } from './scenarios/cli-script.js';
import { createAllAtOnce, createOneAtATime } from './scenarios/create.js';
import { detectionLatency } from './scenarios/detection.js';
import { heartbeatCpu } from './scenarios/heartbeat-cpu.js';
import { hopLatency } from './scenarios/hop-latency.js';
import { nodeRss } from './scenarios/node-rss.js';
import { restartLatency } from './scenarios/restart.js';
import { sortedBalanced } from './scenarios/sorted-balanced.js';
import { storeThroughput } from './scenarios/store-throughput.js';
import { sessionRun } from './scenarios/session.js';
import { unaryExec } from './scenarios/unary-exec.js';
import { balancedDepth, balancedOrder, chainOrder } from './tree.js';

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
    name: 'bare node + zeromq',
    keys: ['bareStart', 'bareRss'],
    run: async (opts, emit) => (await bareStartBaselines(opts)).forEach(emit),
  },
  {
    name: 'heartbeat floor (bare processes)',
    keys: ['heartbeatFloor'],
    run: async (opts, emit) => emit(await heartbeatFloor(opts)),
  },
  {
    name: 'arbor, balanced tree built one at a time',
    keys: [
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
      withGateway(async (gateway) => {
        const client = gateway.client();
        const ids = balancedOrder(opts.treeLevels);
        emit(await createOneAtATime(client, ids));
        const root = { id: ids[0] as number, depth: 0 };
        const deep = { id: 1, depth: balancedDepth(1, opts.treeLevels) }; // a leaf: depth 5 of 63 nodes
        for (const row of await unaryExec(client, gateway.pid, root, deep, opts)) emit(row);
        // The Session and the CLI spread over the nodes above the leaves (31 of 63, depths 0 to 4).
        const upper = ids.filter((id) => balancedDepth(id, opts.treeLevels) < opts.treeLevels - 1);
        emit(await sessionRun(client, gateway.pid, upper, opts));
        emit(await cliScript(gateway.address, upper, opts));
      }),
  },
  {
    name: 'arbor, balanced tree built all at once',
    keys: ['createConcurrent', 'nodeRss', 'heartbeatCpu'],
    run: (opts, emit) =>
      withGateway(async (gateway) => {
        emit(await createAllAtOnce(gateway.client(), balancedOrder(opts.treeLevels)));
        await sleep(opts.idleSettleMs);
        emit(nodeRss(gateway, opts.idleSettleMs));
        emit(await heartbeatCpu(gateway, opts));
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
    name: 'arbor, store throughput: memory, log, fsync',
    keys: ['storeMemory', 'storeLog', 'storeFsync'],
    run: (opts, emit) => storeThroughput(opts, emit),
  },
];
