/**
 * @module `node dist/bench/profile.js [--seconds N]`: where the time goes. Runs the unary Exec
 * concurrency-64 load and the Session load (1,024 in flight over 31 nodes), each against its
 * own gateway whose NODE_OPTIONS preload cpu-profile-preload.js (so the gateway and every
 * computing process can profile themselves; Node 20 refuses `--cpu-prof` there); the gateway and
 * the root are profiled during the load only (SIGUSR2 switches their profilers), then prints the top costs of the gateway
 * and of the root node. Profiles stay in bench/results/profile-<timestamp>/ for Chrome DevTools.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import type { ArborServiceClient, ExecResponse } from '../proto/gen/arbor/v1/arbor.js';
import { installCleanupHandlers, stopAll } from './children.js';
import { closedLoop } from './closed-loop.js';
import { rate } from './format.js';
import { create, Gateway } from './gateway.js';
import { FULL } from './options.js';
import { BENCH_DIST, RESULTS_DIR } from './paths.js';
import { endStream, pipelined } from './pipeline.js';
import { renderSummary, summarizeProfile } from './profile-summary.js';
import { asSessionCommand, scriptCommand } from './script.js';
import { balancedOrder } from './tree.js';
import { unaryCall } from './unary-call.js';

const secondsArg = process.argv.indexOf('--seconds');
const seconds = secondsArg === -1 ? 8 : Number(process.argv[secondsArg + 1]);
const LEVELS = 5; // 31 nodes

interface Scenario {
  name: string;
  load: (client: ArborServiceClient, ids: number[]) => Promise<string>;
}

const scenarios: Scenario[] = [
  {
    name: 'unary-exec-c64',
    load: async (client, ids) => {
      const root = ids[0] as number;
      const op = (i: number): Promise<ExecResponse> =>
        unaryCall<ExecResponse>((cb) => client.exec({ id: root, name: `k${i % 1000}`, value: i % 2 === 0 ? BigInt(i) : undefined }, cb));
      const t = await closedLoop(op, 64, seconds * 1000);
      const errors = t.errors > 0 ? `, ${t.errors} errors (${t.firstError ?? '?'})` : '';
      return `${rate(t.opsPerSec)}, store and load alternating, to the root${errors}`;
    },
  },
  {
    name: 'session-1024',
    load: async (client, ids) => {
      const stream = client.session();
      const t = await pipelined(stream, (i) => asSessionCommand(scriptCommand(i, ids)), FULL.streamWindow, { durationMs: seconds * 1000 });
      await endStream(stream);
      const errors = t.errors > 0 ? `, ${t.errors} errors (${t.firstError ?? '?'})` : '';
      return `${rate(t.opsPerSec, 'cmds/s')} over ${ids.length} nodes${errors}`;
    },
  },
];

installCleanupHandlers();
const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
const root = `${RESULTS_DIR}profile-${stamp}/`;
try {
  for (const scenario of scenarios) {
    const dir = `${root}${scenario.name}/`;
    mkdirSync(dir, { recursive: true });
    const gateway = await Gateway.start({
      env: {
        NODE_OPTIONS: `--import=${BENCH_DIST}cpu-profile-preload.js`,
        ARBOR_BENCH_PROFILE_DIR: dir,
        ARBOR_BENCH_PROFILE_WHO: 'gateway,nodes',
      },
    });
    const client = gateway.client();
    const ids = balancedOrder(LEVELS);
    let rootPid = 0;
    try {
      for (const id of ids) {
        const created = await create(client, id);
        if (id === ids[0]) rootPid = created.pid;
      }
    } catch (error) {
      process.stderr.write(`profile: building the tree failed; gateway stderr:\n${gateway.stderr.slice(-3000)}\n`);
      throw error;
    }
    const profiled = [gateway.pid, rootPid];
    for (const pid of profiled) process.kill(pid, 'SIGUSR2');
    const outcome = await scenario.load(client, ids);
    for (const pid of profiled) process.kill(pid, 'SIGUSR2');
    await new Promise((resolve) => setTimeout(resolve, 500)); // let them write
    await gateway.stop();
    const files = readdirSync(dir);
    const of = (pid: number): string | undefined => files.find((f) => f === `${pid}.cpuprofile`);
    process.stdout.write(`\n== ${scenario.name}: ${outcome}, ${seconds} s (profiles in ${dir})\n`);
    for (const [who, pid] of [
      ['gateway', gateway.pid],
      [`root node (${ids[0]})`, rootPid],
    ] as const) {
      const file = of(pid);
      process.stdout.write(file ? `${renderSummary(who, summarizeProfile(`${dir}${file}`))}\n` : `${who}: no profile written\n`);
    }
  }
} finally {
  await stopAll();
}
