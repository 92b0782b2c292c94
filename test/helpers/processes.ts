/**
 * Process helpers for tests: find children through /proc, judge liveness by state (a zombie
 * is dead), find what a computing process holds open. Waiting for a condition is vitest's own
 * `expect.poll` (with a deadline), never a sleep.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname } from 'node:path';

interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
}

function stat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: parse after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, state: rest[0] as string, ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** True while `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

/** The process state letter (R, S, T for stopped, Z...), or undefined when gone. */
export function processState(pid: number): string | undefined {
  return stat(pid)?.state;
}

/** Live direct children of `pid`. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (s !== undefined && s.ppid === pid && s.state !== 'Z') out.push(s.pid);
  }
  return out;
}

/** The files and unix-socket paths process `pid` holds open (from /proc). */
function openPaths(pid: number): string[] {
  const sockets = new Set<string>();
  const files: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const socket = /^socket:\[(\d+)\]$/.exec(target);
    if (socket) sockets.add(socket[1] as string);
    else files.push(target);
  }
  // Bound unix sockets (a node's ipc endpoint) carry their path in /proc/net/unix.
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length >= 8 && sockets.has(fields[6] as string)) files.push(fields[7] as string);
  }
  return files;
}

/** The ipc endpoint a computing process binds for its children (`ipc://<runtime dir>/<id>`). */
export function listenEndpointOf(nodePid: number): string {
  const path = openPaths(nodePid).find((p) => /\/arbor-[^/]+\/\d+$/.test(p));
  if (path === undefined) throw new Error(`process ${nodePid} has no arbor ipc endpoint open`);
  return `ipc://${path}`;
}

/** The private runtime directory of the gateway that started this computing process. */
export function runtimeDirOf(nodePid: number): string {
  return dirname(listenEndpointOf(nodePid).replace(/^ipc:\/\//, ''));
}

/** The write-ahead log a computing process has open. */
export function logPathOf(nodePid: number): string {
  const path = openPaths(nodePid).find((p) => p.endsWith('.wal'));
  if (path === undefined) throw new Error(`process ${nodePid} has no log open`);
  return path;
}

/**
 * How many times the main thread of `pid` (its JavaScript) has been scheduled to run so far
 * (the third field of /proc/<pid>/task/<pid>/schedstat), or undefined when gone. Unchanged
 * over a window: no JavaScript ran in it, not even a timer.
 */
export function mainThreadRuns(pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ')[2]);
  } catch {
    return undefined;
  }
}
