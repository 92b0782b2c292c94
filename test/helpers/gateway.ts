/**
 * Starts a real arbor-gateway process on an ephemeral port and tears it down after the test,
 * also when the test fails: the gateway and every computing process it started. A computing
 * process still alive once its gateway is gone is a leak (nodes must end with their gateway):
 * teardown kills it and fails the test, naming it.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import { expect, onTestFinished, vi } from 'vitest';
import { ArborServiceClient } from '../../proto/gen/arbor/v1/arbor.js';
import { SupervisedProcess } from '../../lib/supervised-process.js';
import { childrenOf, isAlive } from './processes.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
// The one-file bundles that the bins and `npm start` run (scripts/bundle.js).
export const GATEWAY_MAIN = `${REPO}dist/bundle/gateway.js`;
export const CLI_MAIN = `${REPO}dist/bundle/arbor.js`;

/** How long a computing process may outlive its gateway before it counts as leaked. */
const NODE_EXIT_GRACE_MS = 3000;

export interface RunningGateway {
  address: string;
  proc: ChildProcess;
  pid: number;
  /** stderr so far (for diagnostics). */
  stderr: () => string;
  /** Every stdout line so far. */
  stdoutLines: string[];
  client: () => ArborServiceClient;
  /** Live computing processes (children of the gateway): the nodes', and the spares of its pool (--pool-size). */
  processes: () => number[];
  /** SIGTERM, wait for exit; returns the exit code. */
  stop: () => Promise<number | null>;
}

export async function startGateway(extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningGateway> {
  const supervised = SupervisedProcess.spawn(process.execPath, [GATEWAY_MAIN, '--listen', '127.0.0.1:0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const proc = supervised.child;
  const pid = supervised.pid;
  let err = '';
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const clients: ArborServiceClient[] = [];
  const seenNodes = new Set<number>();

  onTestFinished(async () => {
    for (const c of clients) c.close();
    for (const child of childrenOf(pid)) seenNodes.add(child);
    await supervised.stop(8000);
    // A node sees its gateway's end (its stdin closes) and exits by itself within moments.
    await vi
      .waitFor(
        () => {
          if ([...seenNodes].some(isAlive)) throw new Error('computing processes still alive');
        },
        { timeout: NODE_EXIT_GRACE_MS, interval: 20 },
      )
      .catch(() => undefined);
    const leaked = [...seenNodes].filter(isAlive);
    for (const node of leaked) process.kill(node, 'SIGKILL');
    if (leaked.length > 0) {
      throw new Error(`computing processes outlived their gateway for ${NODE_EXIT_GRACE_MS} ms (killed now): pids ${leaked.join(', ')}`);
    }
  });

  const stdoutLines: string[] = [];
  const ready = /^arbor-gateway listening on (\S+)$/;
  const first = await supervised
    .firstLine(proc.stdout as Readable, {
      timeoutMs: 15_000,
      what: 'the gateway',
      isReady: (line) => ready.test(line),
      onLater: (line) => stdoutLines.push(line),
    })
    .catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; stderr: ${err}`);
    });
  stdoutLines.unshift(first);
  const address = (ready.exec(first) as RegExpExecArray)[1] as string;

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
    processes: () => {
      const now = childrenOf(pid);
      for (const n of now) seenNodes.add(n);
      return now;
    },
    stop: async () => {
      for (const n of childrenOf(pid)) seenNodes.add(n);
      supervised.signal('SIGTERM');
      return (await supervised.exited).code;
    },
  };
}

/** Waits until none of `pids` is alive. */
export function allGone(pids: number[], timeoutMs = 5000): Promise<void> {
  return expect.poll(() => pids.every((p) => !isAlive(p)), { message: `processes ${pids.join(',')} to exit`, timeout: timeoutMs, interval: 20 }).toBe(true);
}
