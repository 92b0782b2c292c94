/**
 * @module Every process the benchmark starts, so each one is stopped again, also on an error,
 * a Ctrl-C or an unexpected exit of the benchmark itself.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { SupervisedProcess } from '../lib/supervised-process.js';
import { childrenOf, isAlive } from './procfs.js';

export interface Tracked {
  readonly proc: ChildProcess;
  readonly supervised: SupervisedProcess;
  readonly pid: number;
  /** Settles with the exit code (or the signal name) once the process has ended. */
  readonly exited: Promise<number | string | null>;
  /** SIGTERM (or `signal`), SIGKILL after `graceMs`; also kills its own children left behind. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const running = new Set<Tracked>();
/** Grandchildren seen (e.g. computing nodes of a gateway): killed at the end if still alive. */
const descendants = new Set<number>();

export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): Tracked {
  const supervised = SupervisedProcess.spawn(command, args, options);
  if (supervised.pid === -1) throw new Error(`could not start ${command} ${args.join(' ')}`);
  const pid = supervised.pid;
  const exited = supervised.exited.then((exit) => exit.code ?? exit.signal);
  const tracked: Tracked = {
    proc: supervised.child,
    supervised,
    pid,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 8000) {
      remember(pid);
      await supervised.stop(graceMs, signal);
      running.delete(tracked);
      killStragglers();
    },
  };
  running.add(tracked);
  void exited.then(() => running.delete(tracked));
  return tracked;
}

/** Notes the current children of `pid`, so they are killed at the end even if `pid` dies first. */
export function remember(pid: number): number[] {
  const kids = childrenOf(pid);
  for (const kid of kids) descendants.add(kid);
  return kids;
}

function killStragglers(): void {
  for (const pid of descendants) {
    if (isAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    descendants.delete(pid);
  }
}

/** Stops every process still running (gateways get SIGTERM so they stop their nodes). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((t) => t.stop()));
  killStragglers();
}

/** Last resort, synchronous: SIGKILL everything (for process 'exit'). */
function killAllNow(): void {
  for (const t of running) {
    for (const kid of childrenOf(t.pid)) descendants.add(kid);
    t.proc.kill('SIGKILL');
  }
  killStragglers();
}

let installed = false;

/** On SIGINT/SIGTERM: stop everything, then exit 130/143. On exit: SIGKILL whatever is left. */
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping the processes it started\n`);
      void stopAll().finally(() => process.exit(code));
    });
  }
}
