/**
 * Runs the real `arbor` CLI (or `npm start`'s program) as a child process, feeding stdin and
 * collecting stdout lines, with cleanup after the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { onTestFinished, expect } from 'vitest';
import { REPO } from './gateway.js';
import { isAlive } from './processes.js';

export const START_MAIN = `${REPO}dist/bundle/start.js`;

export interface CliRun {
  proc: ChildProcess;
  lines: string[];
  stderr: () => string;
  exited: Promise<number | null>;
  write: (text: string) => void;
  endInput: () => void;
  /** Waits until `count` stdout lines have arrived. */
  waitForLines: (count: number, timeoutMs?: number) => Promise<void>;
}

export function startCli(program: string, args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const proc = spawn(process.execPath, [program, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  const lines: string[] = [];
  let err = '';
  createInterface({ input: proc.stdout }).on('line', (line) => lines.push(line));
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  proc.stdin.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  onTestFinished(async () => {
    if (isAlive(proc.pid!)) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  return {
    proc,
    lines,
    stderr: () => err,
    exited,
    write: (text) => void proc.stdin.write(text),
    endInput: () => void proc.stdin.end(),
    waitForLines: (count, timeoutMs = 15_000) => expect.poll(() => lines.length >= count, { message: `${count} output lines (have ${lines.length})`, timeout: timeoutMs, interval: 20 }).toBe(true),
  };
}

/** Runs the CLI on a whole script; resolves with the exit code, stdout lines and stderr. */
export async function runScript(program: string, args: string[], script: string, env: NodeJS.ProcessEnv = {}) {
  const run = startCli(program, args, env);
  run.write(script);
  run.endInput();
  const code = await run.exited;
  // 'exit' can come before the last stdout chunk is read.
  await new Promise((resolve) => run.proc.stdout!.once('close', resolve).readableEnded && resolve(undefined));
  return { code, lines: run.lines, stderr: run.stderr() };
}
