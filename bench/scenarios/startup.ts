/**
 * @module arbor: the first second of a script. A bare `node -e 0` (spawn → exit) is the unit;
 * beside it the gateway (spawn → its `listening` line), the console against a running gateway
 * with a one-line and with a 4,000-line script (spawn → last reply), and `npm start`'s program
 * with 5 creates and 4,000 execs (spawn → last reply, and when the first reply came). Medians of
 * `startupRuns`, after one warm-up run of each (the disk cache).
 */
import type { Readable } from 'node:stream';
import { spawnTracked } from '../children.js';
import { ms } from '../format.js';
import { create, Gateway } from '../gateway.js';
import type { BenchOptions } from '../options.js';
import { CLI_MAIN, GATEWAY_MAIN, START_MAIN } from '../paths.js';
import type { Row, RowKey } from '../rows.js';
import { median } from '../stats.js';

const IDS = [50, 30, 70, 20, 80];

/** 2,000 stores and 2,000 loads spread over IDS, as the issue's side-by-side run has them. */
export function execScript(): string {
  const lines: string[] = [];
  for (let k = 0; k < 2000; k++) lines.push(`exec ${IDS[k % IDS.length]} k${k} ${k}`);
  for (let k = 0; k < 2000; k++) lines.push(`exec ${IDS[k % IDS.length]} k${k}`);
  return `${lines.join('\n')}\n`;
}

interface Timed {
  /** Spawn → the line `until` matched (or the `lines`-th line of stdout, or exit). */
  doneMs: number;
  firstLineMs: number;
}

/**
 * Spawns `node <args>` with `input` on stdin and times stdout: done at the `lines`-th line, or at
 * the first line matching `until`, or (`exit`, or neither given) at exit. A run that fails or
 * prints too little throws.
 */
async function timeRun(args: readonly string[], input: string | undefined, done: { lines?: number; until?: RegExp; exit?: true }): Promise<Timed> {
  const t0 = performance.now();
  const child = spawnTracked(process.execPath, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (input !== undefined) child.proc.stdin?.end(input);
  let lines = 0;
  let firstLineMs: number | undefined;
  let doneMs: number | undefined;
  let partial = '';
  const reached = new Promise<void>((resolve) => {
    (child.proc.stdout as Readable).setEncoding('utf8').on('data', (chunk: string) => {
      const now = performance.now() - t0;
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      if (parts.length > 0) firstLineMs ??= now;
      lines += parts.length;
      if (doneMs === undefined && ((done.lines !== undefined && lines >= done.lines) || (done.until !== undefined && parts.some((l) => done.until?.test(l))))) {
        doneMs = now;
        resolve();
      }
    });
  });
  try {
    if (done.until !== undefined) {
      await Promise.race([reached, child.exited.then((code) => Promise.reject(new Error(`exited (${String(code)}) before ${String(done.until)}: ${stderr}`)))]);
    } else {
      const code = await child.exited;
      if (code !== 0) throw new Error(`${args.join(' ')} exited with ${String(code)}: ${stderr}`);
      if (done.lines !== undefined && lines < done.lines) throw new Error(`${lines} lines of ${done.lines}: ${stderr}`);
      if (done.exit === true || doneMs === undefined) doneMs = performance.now() - t0;
    }
    return { doneMs: doneMs ?? performance.now() - t0, firstLineMs: firstLineMs ?? Number.NaN };
  } finally {
    await child.stop('SIGTERM', 5000);
  }
}

async function medianOf(runs: number, run: () => Promise<Timed>): Promise<{ doneMs: number; firstLineMs: number; all: number[] }> {
  await run(); // warm-up: the disk cache
  const timed: Timed[] = [];
  for (let i = 0; i < runs; i++) timed.push(await run());
  const all = timed.map((t) => t.doneMs);
  return { doneMs: median(all), firstLineMs: median(timed.map((t) => t.firstLineMs)), all };
}

function row(key: RowKey, m: { doneMs: number; all: number[] }, note: string, extra: Record<string, number> = {}): Row {
  return {
    key,
    section: key === 'bareNode' ? 'baselines' : 'arbor',
    value: ms(m.doneMs),
    note: `${note}; median of ${m.all.length} (${m.all.map((v) => ms(v)).join(', ')})`,
    figures: { medianMs: m.doneMs, ...extra },
  };
}

export async function startup(opts: BenchOptions): Promise<Row[]> {
  const runs = opts.startupRuns;
  const rows: Row[] = [];
  rows.push(row('bareNode', await medianOf(runs, () => timeRun(['-e', '0'], undefined, {})), 'node -e 0, spawn → exit'));
  rows.push(
    row(
      'gatewayStart',
      await medianOf(runs, () => timeRun([GATEWAY_MAIN, '--listen', '127.0.0.1:0'], undefined, { until: /^arbor-gateway listening on / })),
      'spawn → `arbor-gateway listening on ...`',
    ),
  );
  const gateway = await Gateway.start();
  try {
    const client = gateway.client();
    for (const id of IDS) await create(client, id);
    const target = ['--target', gateway.address];
    rows.push(row('cliOneLine', await medianOf(runs, () => timeRun([CLI_MAIN, ...target], `exec ${IDS[0]} k\n`, { lines: 1, exit: true })), 'a one-line script (one exec), spawn → exit'));
    rows.push(
      row('cliExecScript', await medianOf(runs, () => timeRun([CLI_MAIN, ...target], execScript(), { lines: 4000 })), '4,000 execs over 5 nodes, spawn → last reply'),
    );
  } finally {
    await gateway.stop();
  }
  const whole = `${IDS.map((id) => `create ${id}`).join('\n')}\n${execScript()}`;
  const m = await medianOf(runs, () => timeRun([START_MAIN, '--listen', '127.0.0.1:0'], whole, { lines: 4005 }));
  rows.push(row('wholeRun', m, `npm start's program, 5 creates + 4,000 execs, spawn → last reply; first reply ${ms(m.firstLineMs)}`, { firstReplyMs: m.firstLineMs }));
  return rows;
}
