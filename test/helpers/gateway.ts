/**
 * Starts a real arbor-gateway process on an ephemeral port and tears it down after the test,
 * also when the test fails: the gateway and every computing process it started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import { onTestFinished } from 'vitest';
import { ArborServiceClient } from '../../proto/gen/arbor/v1/arbor.js';
import { childrenOf, isAlive, waitFor } from './processes.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const GATEWAY_MAIN = `${REPO}dist/gateway/main.js`;
export const CLI_MAIN = `${REPO}dist/clients/main.js`;

export interface RunningGateway {
  address: string;
  proc: ChildProcess;
  pid: number;
  /** stderr so far (for diagnostics). */
  stderr: () => string;
  /** Every stdout line so far. */
  stdoutLines: string[];
  client: () => ArborServiceClient;
  /** Live computing processes (children of the gateway). */
  nodes: () => number[];
  /** SIGTERM, wait for exit; returns the exit code. */
  stop: () => Promise<number | null>;
}

export async function startGateway(extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningGateway> {
  const proc = spawn(process.execPath, [GATEWAY_MAIN, '--listen', '127.0.0.1:0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const pid = proc.pid as number;
  let err = '';
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const clients: ArborServiceClient[] = [];
  const seenNodes = new Set<number>();

  onTestFinished(async () => {
    for (const c of clients) c.close();
    for (const child of childrenOf(pid)) seenNodes.add(child);
    if (isAlive(pid)) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    }
    // Computing processes end with the gateway; kill any straggler so no test leaks processes.
    for (const node of seenNodes) if (isAlive(node)) process.kill(node, 'SIGKILL');
  });

  const lines = createInterface({ input: proc.stdout });
  const stdoutLines: string[] = [];
  lines.on('line', (line) => stdoutLines.push(line));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not report listening; stderr: ${err}`)), 15_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      const match = /^arbor-gateway listening on (\S+)$/.exec(line);
      if (match) resolve(match[1] as string);
      else reject(new Error(`unexpected first line: ${line}`));
    });
    proc.once('exit', (code) => reject(new Error(`gateway exited with ${code}; stderr: ${err}`)));
  });

  return {
    address,
    proc,
    pid,
    stderr: () => err,
    stdoutLines,
    client: () => {
      const c = new ArborServiceClient(address, credentials.createInsecure());
      clients.push(c);
      return c;
    },
    nodes: () => {
      const now = childrenOf(pid);
      for (const n of now) seenNodes.add(n);
      return now;
    },
    stop: async () => {
      for (const n of childrenOf(pid)) seenNodes.add(n);
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Waits until none of `pids` is alive. */
export function allGone(pids: number[], timeoutMs = 5000): Promise<void> {
  return waitFor(`processes ${pids.join(',')} to exit`, () => pids.every((p) => !isAlive(p)), timeoutMs);
}
