/**
 * @module arbor: the CLI (`node dist/bundle/arbor.js --target <addr>`) piping a script, timed
 * from spawn until the last reply line arrives on its stdout: what `arbor < script` costs a user.
 * A warm-up run of a small script comes first. Missing or failing CLI: a row saying so.
 */
import { existsSync } from 'node:fs';
import { spawnTracked } from '../children.js';
import { seconds } from '../format.js';
import { defaultsEnv } from '../gateway.js';
import type { BenchOptions } from '../options.js';
import { CLI_MAIN } from '../paths.js';
import { unavailableRow } from '../row-builders.js';
import type { Row } from '../rows.js';
import { scriptText } from '../script.js';

interface CliRun {
  /** Spawn until the expected number of lines arrived (or until exit). */
  seconds: number;
  lines: number;
  errorLines: number;
  exit: number | string | null;
  stderr: string;
}

function runCli(address: string, script: string, expectedLines: number, timeoutMs: number): Promise<CliRun> {
  const t0 = performance.now();
  const child = spawnTracked(process.execPath, [CLI_MAIN, '--target', address], { stdio: ['pipe', 'pipe', 'pipe'], env: defaultsEnv() });
  let lines = 0;
  let errorLines = 0;
  let doneAt: number | undefined;
  let stderr = '';
  let partial = '';
  child.proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines += parts.length;
    for (const line of parts) if (line.startsWith('Error')) errorLines++;
    if (doneAt === undefined && lines >= expectedLines) doneAt = performance.now();
  });
  child.proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < 4000) stderr += chunk;
  });
  child.proc.stdin?.on('error', () => undefined);
  child.proc.stdin?.end(script);
  const timer = setTimeout(() => void child.stop('SIGKILL'), timeoutMs);
  const outputEnded = new Promise<void>((resolve) => child.proc.stdout?.once('close', () => resolve()) ?? resolve());
  return Promise.all([child.exited, outputEnded]).then(([exit]) => {
    clearTimeout(timer);
    return { seconds: ((doneAt ?? performance.now()) - t0) / 1000, lines, errorLines, exit, stderr };
  });
}

function failure(run: CliRun, expected: number): string | undefined {
  if (run.exit !== 0) return `exit ${run.exit}${run.stderr ? `: ${run.stderr.split('\n')[0]}` : ''}`;
  if (run.lines < expected) return `${run.lines} of ${expected} reply lines`;
  if (run.errorLines > 0) return `${run.errorLines} error replies`;
  return undefined;
}

export async function cliScript(address: string, nodes: readonly number[], opts: BenchOptions): Promise<Row> {
  if (!existsSync(CLI_MAIN)) return unavailableRow('cli', 'CLI missing');
  const warmupLines = Math.min(1000, opts.scriptCommands);
  const warm = await runCli(address, scriptText(warmupLines, nodes), warmupLines, 60_000);
  const warmProblem = failure(warm, warmupLines);
  if (warmProblem !== undefined) return unavailableRow('cli', `CLI failed: ${warmProblem}`);
  const run = await runCli(address, scriptText(opts.scriptCommands, nodes), opts.scriptCommands, 150_000);
  const problem = failure(run, opts.scriptCommands);
  if (problem !== undefined) return unavailableRow('cli', `CLI failed: ${problem}`);
  return {
    key: 'cli',
    section: 'arbor',
    value: seconds(run.seconds),
    note: `${opts.scriptCommands} lines over ${nodes.length} nodes, spawn → last reply, ${Math.round(opts.scriptCommands / run.seconds).toLocaleString('en-US')} lines/s`,
    figures: { seconds: run.seconds, lines: run.lines, linesPerSec: opts.scriptCommands / run.seconds },
  };
}
