/**
 * @module What the kernel says about processes: children (by ppid), resident memory, CPU time.
 * Linux only (/proc).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

interface Stat {
  state: string;
  ppid: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces: fields count from after the last ')'.
  // After it: state(3) ppid(4) ... utime(14) stime(15), i.e. indices 0, 1 ... 11, 12 here.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0] ?? '?', ppid: Number(rest[1]), cpuTicks: Number(rest[11]) + Number(rest[12]) };
}

/** Live (non-zombie) direct children of `pid`. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat !== undefined && stat.ppid === pid && stat.state !== 'Z' && stat.state !== 'X') out.push(Number(entry));
  }
  return out;
}

/** True while `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** A `kB` field of /proc/<pid>/status in bytes (undefined when the process is gone). */
function statusBytes(pid: number, field: 'VmRSS' | 'RssAnon'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** VmRSS of `pid` in bytes (undefined when it is gone). */
export const rssBytes = (pid: number): number | undefined => statusBytes(pid, 'VmRSS');

/** RssAnon of `pid` in bytes: its own memory, without the mapped files (node binary, libraries) it shares. */
export const rssAnonBytes = (pid: number): number | undefined => statusBytes(pid, 'RssAnon');

/** utime + stime of `pid` (all its threads) in clock ticks; 0 when it is gone. */
export function cpuTicks(pid: number): number {
  return readStat(pid)?.cpuTicks ?? 0;
}

let ticksPerSecond: number | undefined;

/** The kernel's USER_HZ (`getconf CLK_TCK`), 100 on nearly every Linux. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Starts measuring the CPU time (utime + stime) of `pids`; the returned function gives the µs used since. */
export function cpuMeter(pids: readonly number[]): () => number {
  const start = pids.map(cpuTicks);
  return () => (pids.reduce((sum, pid, i) => sum + cpuTicks(pid) - (start[i] as number), 0) * 1e6) / clockTicksPerSecond();
}

/** Several named groups of processes measured over the same window: µs of CPU per group. */
export function cpuMeters(groups: Readonly<Record<string, readonly number[]>>): () => { name: string; cpuUs: number }[] {
  const meters = Object.entries(groups).map(([name, pids]) => ({ name, read: cpuMeter(pids) }));
  return () => meters.map(({ name, read }) => ({ name, cpuUs: read() }));
}

/** Proportional and unique set sizes of `pid` in bytes, from /proc/<pid>/smaps_rollup (undefined when gone). */
export function memoryShares(pid: number): { pss: number; uss: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text)?.[1] ?? Number.NaN) * 1024;
    return { pss: kb('Pss'), uss: kb('Private_Clean') + kb('Private_Dirty') };
  } catch {
    return undefined;
  }
}

/**
 * CPU time of a process's threads by kind, in ns: `js` the main thread (JavaScript, timers,
 * zeromq.js's reads and writes), `zmqIo` libzmq's I/O threads (ZMTP PING/PONG and every frame on
 * the wire), `other` the rest (V8's workers, libuv's pool, libzmq's reaper).
 */
export interface ThreadCpu {
  js: number;
  zmqIo: number;
  other: number;
}

type ThreadKind = keyof ThreadCpu;

/** Each thread of `pid` (by tid) with its kind and its time on a CPU so far, in ns; empty when the process is gone. */
function threadTimes(pid: number): Map<string, { kind: ThreadKind; ns: number }> {
  const out = new Map<string, { kind: ThreadKind; ns: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(tid, { kind: tid === String(pid) ? 'js' : comm.startsWith('ZMQbg/IO') ? 'zmqIo' : 'other', ns });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/**
 * Starts measuring `pids` by kind of thread; the returned function gives the ns used since,
 * summed over them. From /proc/<pid>/task/<tid>/schedstat, whose first field is the exact time on
 * a CPU (stat's utime and stime come in 10 ms ticks, too coarse for a process that wakes for 1 ms
 * every few seconds). Thread by thread: one that started meanwhile counts whole, one that ended
 * meanwhile is lost (its last figures cannot be read).
 */
export function threadCpuMeter(pids: readonly number[]): () => ThreadCpu {
  const start = pids.map(threadTimes);
  return () => {
    const used: ThreadCpu = { js: 0, zmqIo: 0, other: 0 };
    pids.forEach((pid, i) => {
      const before = start[i] as Map<string, { kind: ThreadKind; ns: number }>;
      for (const [tid, now] of threadTimes(pid)) used[now.kind] += now.ns - (before.get(tid)?.ns ?? 0);
    });
    return used;
  };
}

/** Percent of one core that `ns` of CPU is over `seconds`. */
export const percentOfCore = (ns: number, seconds: number): number => ns / 1e7 / seconds;

/** Of one group of processes over a window: percent of one core by kind of thread, and in all. */
export type CpuPercent = ThreadCpu & { total: number };

/** Waits `windowMs` and gives, for each named group of pids, the CPU it used meanwhile by kind of thread (threadCpuMeter). */
export async function threadCpuOver<G extends string>(groups: Readonly<Record<G, readonly number[]>>, windowMs: number): Promise<Record<G, CpuPercent>> {
  const meters = Object.entries<readonly number[]>(groups).map(([name, pids]) => [name, threadCpuMeter(pids)] as const);
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const seconds = (performance.now() - t0) / 1000;
  const out = {} as Record<string, CpuPercent>;
  for (const [name, read] of meters) {
    const used = read();
    const js = percentOfCore(used.js, seconds);
    const zmqIo = percentOfCore(used.zmqIo, seconds);
    const other = percentOfCore(used.other, seconds);
    out[name] = { js, zmqIo, other, total: js + zmqIo + other };
  }
  return out;
}
