/**
 * @module Starts one of the benchmark's helper programs (an echo server, a bare node) and waits
 * for the first line it prints, which says where it listens.
 */
import { createInterface } from 'node:readline';
import type { StdioOptions } from 'node:child_process';
import { spawnTracked, type Tracked } from './children.js';
import { BENCH_DIST } from './paths.js';

export async function startHelper(
  entry: string,
  args: readonly string[],
  stdio: StdioOptions = ['ignore', 'pipe', 'inherit'],
): Promise<{ tracked: Tracked; firstLine: string }> {
  const tracked = spawnTracked(process.execPath, [`${BENCH_DIST}${entry}`, ...args], { stdio });
  const lines = createInterface({ input: tracked.proc.stdout as NodeJS.ReadableStream });
  try {
    const firstLine = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${entry} printed nothing within 10 s`)), 10_000);
      lines.once('line', (line) => {
        clearTimeout(timer);
        resolve(line);
      });
      void tracked.exited.then((code) => reject(new Error(`${entry} exited with ${code}`)));
    });
    lines.on('line', () => undefined);
    return { tracked, firstLine };
  } catch (error) {
    await tracked.stop('SIGKILL');
    throw error;
  }
}
