/**
 * @module `npm run soak`: the gateway's memory under a long mixed load returns to its level
 * after warm-up (issue 6: within 20 %), i.e. nothing accumulates per request.
 *
 *   node dist/bench/soak.js [--seconds 60]
 *
 * A gateway with 15 nodes and heartbeats at 100 ms gets, for the whole soak: 4 Sessions with
 * 256 commands in flight each, 16 unary callers, 10 Watch subscribers (2 of which never read),
 * and every 5 s a node created and then killed. The gateway's RSS is read after a warm-up and
 * again after the soak once the load has stopped (after a short idle, so garbage can be
 * collected). Exits 0 either way; the verdict is printed.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { ArborServiceClient } from '../proto/gen/arbor/v1/arbor.js';
import { installCleanupHandlers, stopAll } from './children.js';
import { mb } from './format.js';
import { create, Gateway, heartbeat } from './gateway.js';
import { pipelined } from './pipeline.js';
import { rssBytes } from './procfs.js';

const argv = process.argv.slice(2);
const at = argv.indexOf('--seconds');
const soakSeconds = at === -1 ? 60 : Number(argv[at + 1]);
if (!Number.isFinite(soakSeconds) || soakSeconds <= 0) {
  process.stderr.write('usage: node dist/bench/soak.js [--seconds N]\n');
  process.exit(2);
}
const WARMUP_MS = Math.min(20_000, soakSeconds * 300);
const IDLE_MS = 3000;
const IDS = [80, 40, 120, 20, 60, 100, 140, 10, 30, 50, 70, 90, 110, 130, 150];
let nextChurnId = 1000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

installCleanupHandlers();
const gateway = await Gateway.start();
try {
  const admin = gateway.client();
  for (const id of IDS) await create(admin, id);
  await heartbeat(admin, 100);

  const load = async (ms: number): Promise<number> => {
    const end = Date.now() + ms;
    let done = 0;
    const sessions = Array.from({ length: 4 }, async (_, s) => {
      const stream = gateway.client().session();
      stream.on('error', () => undefined);
      const id = (i: number) => IDS[(i + s) % IDS.length] as number;
      const t = await pipelined(stream, (i) => ({ $case: 'exec', value: { id: id(i), name: `k${i % 50}`, value: i % 2 ? BigInt(i) : undefined } }), 256, { durationMs: end - Date.now() });
      stream.end();
      done += t.ops;
    });
    const unary = Array.from({ length: 16 }, async (_, u) => {
      const client = gateway.client();
      for (let i = 0; Date.now() < end; i++) {
        await new Promise<void>((resolve) =>
          client.exec({ id: IDS[(i + u) % IDS.length] as number, name: 'u', value: BigInt(i) }, new Metadata(), { deadline: Date.now() + 5000 }, () => resolve()),
        );
        done++;
      }
    });
    const watchers = Array.from({ length: 10 }, (_, w) => {
      const client = new ArborServiceClient(gateway.address, credentials.createInsecure(), w < 2 ? { 'grpc-node.flow_control_window': 1024 } : {});
      const stream = client.watch({ backlog: 0 });
      stream.on('data', () => undefined);
      stream.on('error', () => undefined);
      if (w < 2) stream.pause();
      return { client, stream };
    });
    // A killed node stays in the tree, so a later id may land under it and be refused: fine,
    // the point is to run create, death and the refusal paths over and over.
    const churn = (async () => {
      while (Date.now() < end - 1000) {
        const created = await create(admin, nextChurnId++).catch(() => undefined);
        await sleep(2500);
        if (created !== undefined) process.kill(created.pid, 'SIGKILL');
        await sleep(2500);
      }
    })();
    await Promise.all([...sessions, ...unary, churn]);
    for (const w of watchers) {
      w.stream.cancel();
      w.client.close();
    }
    return done;
  };

  process.stderr.write(`soak: warm-up ${WARMUP_MS / 1000} s...\n`);
  await load(WARMUP_MS);
  await sleep(IDLE_MS);
  const warm = rssBytes(gateway.pid) ?? 0;
  process.stderr.write(`soak: ${soakSeconds} s of mixed load...\n`);
  // The trajectory tells a plateau (heap grown to its working size) from a leak (a slope).
  const samples: string[] = [];
  const sampler = setInterval(() => samples.push(mb(rssBytes(gateway.pid) ?? 0)), 10_000);
  const ops = await load(soakSeconds * 1000);
  clearInterval(sampler);
  await sleep(IDLE_MS);
  const after = rssBytes(gateway.pid) ?? 0;
  const ratio = after / warm;
  process.stdout.write(
    [
      `arbor soak: ${soakSeconds} s, ${ops.toLocaleString('en-US')} commands answered`,
      `  gateway RSS after warm-up   ${mb(warm)}`,
      `  during the soak, every 10 s ${samples.join(', ')}`,
      `  gateway RSS after the soak  ${mb(after)}  (${ratio.toFixed(2)} ×, target ≤ 1.20 ×: ${ratio <= 1.2 ? 'PASS' : 'FAIL'})`,
    ].join('\n') + '\n',
  );
} finally {
  await gateway.stop();
  await stopAll();
}
