/**
 * @module Starts one of the benchmark's helper programs (an echo server, a bare node) and waits
 * for the first line it prints, which says where it listens.
 */
import type { StdioOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import { spawnTracked, type Tracked } from './children.js';
import { BENCH_DIST } from './paths.js';

export async function startHelper(
  entry: string,
  args: readonly string[],
  stdio: StdioOptions = ['ignore', 'pipe', 'inherit'],
): Promise<{ tracked: Tracked; firstLine: string }> {
  const tracked = spawnTracked(process.execPath, [`${BENCH_DIST}${entry}`, ...args], { stdio });
  try {
    const firstLine = await tracked.supervised.firstLine(tracked.proc.stdout as Readable, { timeoutMs: 10_000, what: entry });
    return { tracked, firstLine };
  } catch (error) {
    await tracked.stop('SIGKILL');
    throw error;
  }
}
