/**
 * @module The lock of a data dir: one gateway at a time uses it.
 *
 * `DIR/lock` names its holder: pid, process start time (a recycled pid is not the holder) and a
 * nonce (two locks of one process differ). Every lock file is written whole under a fresh name
 * and hard-linked into place: link(2) fails when the name exists, so a lock is never read
 * half-written, and of several gateways linking one name exactly one succeeds.
 *
 * A holder that died (killed before it could unlock) leaves its lock behind. Whoever finds it
 * never deletes it: two gateways starting together would each delete the other's fresh lock
 * and both go on. Instead the dead lock's successor is claimed: a lock linked at
 * `lock.<digest of the dead lock's bytes>`. The holder is the first live process on the chain
 * `lock` → `lock.<digest>` → ... to its end; each name on it is linked once and changes only by
 * its holder, so every gateway reading the chain finds the same holder. A claim is checked by
 * reading the chain again: one found off it (the chain moved on meanwhile) is withdrawn. Once
 * it holds, a gateway renames a lock of its own over `lock` (atomic) and deletes the chain
 * behind; a reading of the chain counts only if `lock` did not change while it was read.
 */
import { createHash, randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsCause, fsCode } from '../lib/fs-cause.js';
import { readPlainFile, writeNewFile } from '../lib/plain-file.js';

const LOCK = 'lock';
/** The chain grows by one per holder killed while a successor was being claimed: far below this. */
const MAX_CHAIN = 64;
/** Each round either ends or follows another gateway's progress (it linked a name first). */
const MAX_ROUNDS = 200;

/** The data dir is locked by another live gateway. */
export class LockHeld extends Error {
  override readonly name = 'LockHeld';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`${dir} is in use by another gateway (pid ${pid}); stop it first, or use another --data-dir`);
  }
}

/** What a lock file says. */
export interface Holder {
  pid: number;
  start: string | undefined;
}

/** The holder a lock file names; undefined when it names none (half-written by an old version, or garbage). */
export function parseHolder(bytes: Buffer): Holder | undefined {
  try {
    const raw = JSON.parse(bytes.toString('utf8')) as { pid?: unknown; start?: unknown };
    if (!Number.isInteger(raw.pid) || (raw.pid as number) <= 0) return undefined;
    return { pid: raw.pid as number, start: typeof raw.start === 'string' ? raw.start : undefined };
  } catch {
    return undefined;
  }
}

/** Where the successor of a dead lock with these bytes is claimed. */
export function successorName(bytes: Buffer): string {
  return `${LOCK}.${createHash('sha256').update(bytes).digest('hex').slice(0, 20)}`;
}

/** The process start time from /proc (field 22), to tell a live holder from a recycled pid. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

const isRunning = (holder: Holder | undefined): holder is Holder => {
  if (holder === undefined || holder.start === undefined) return false;
  return startTimeOf(holder.pid) === holder.start;
};

/** Where the chain ends: at a live holder, at this lock, or at a free name; or `lock` changed during the walk. */
type ChainEnd = { t: 'held'; pid: number } | { t: 'mine'; name: string; chain: string[] } | { t: 'free'; name: string } | { t: 'moved' };

export class DirLock {
  private constructor(
    private readonly dir: string,
    private readonly mine: Buffer,
    /** The name holding this lock (`lock` once settled). */
    private file: string,
  ) {}

  /** Takes the lock of `dir`. Throws LockHeld when a live gateway holds it, an Error naming the path and the cause when it cannot be written. */
  static take(dir: string): DirLock {
    const mine = Buffer.from(`${JSON.stringify({ pid: process.pid, start: startTimeOf(process.pid), nonce: randomBytes(8).toString('hex') })}\n`);
    let claimed: string | undefined;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const end = walk(dir, mine);
      // Read again: a claim made stays (it is judged by the next walk).
      if (end.t === 'moved') continue;
      if (end.t === 'mine') {
        const lock = new DirLock(dir, mine, end.name);
        lock.settle(end.chain);
        return lock;
      }
      // A claim that the chain does not reach is off it for good (its dead predecessor is gone).
      if (claimed !== undefined) withdraw(dir, claimed, mine);
      claimed = undefined;
      if (end.t === 'held') throw new LockHeld(dir, end.pid);
      if (linkNew(dir, end.name, mine)) claimed = end.name;
    }
    if (claimed !== undefined) withdraw(dir, claimed, mine);
    throw new Error(`cannot lock ${dir}: other gateways keep taking it`);
  }

  /** Releases the lock (only a file that still names this lock is removed). */
  release(): void {
    withdraw(this.dir, this.file, this.mine);
  }

  /** Names this lock `lock` again and deletes the chain behind it; best effort (the chain holds it either way). */
  private settle(chain: string[]): void {
    if (this.file === LOCK) return;
    try {
      const tmp = writeNewFile(join(this.dir, `${LOCK}.tmp-`), this.mine, false);
      try {
        renameSync(tmp, join(this.dir, LOCK));
      } catch (error) {
        rmSync(tmp, { force: true });
        throw error;
      }
      this.file = LOCK;
    } catch {
      return;
    }
    for (const name of chain) if (name !== LOCK) rmSync(join(this.dir, name), { force: true });
  }
}

/**
 * Follows the chain from `lock`. A holder found (another or this one) counts only if `lock` is
 * the same at the end of the walk as at its start: a holder renames its lock over `lock` before
 * it deletes the chain behind, so a walk that straddles that could read on into names deleted
 * and claimed again since, off the chain (a claimant there is not the holder, and withdraws).
 */
function walk(dir: string, mine: Buffer): ChainEnd {
  const chain: string[] = [];
  const start = readLock(join(dir, LOCK));
  const settled = (end: ChainEnd): ChainEnd => (readLock(join(dir, LOCK))?.equals(start as Buffer) === true ? end : { t: 'moved' });
  let name = LOCK;
  let bytes = start;
  for (let step = 0; step < MAX_CHAIN; step++) {
    if (step > 0) bytes = readLock(join(dir, name));
    if (bytes === undefined) return { t: 'free', name };
    chain.push(name);
    if (bytes.equals(mine)) return settled({ t: 'mine', name, chain });
    const holder = parseHolder(bytes);
    if (isRunning(holder)) return settled({ t: 'held', pid: holder.pid });
    name = successorName(bytes);
  }
  throw new Error(`cannot lock ${dir}: its lock chain is longer than ${MAX_CHAIN} (remove ${join(dir, LOCK)}* once no gateway runs on it)`);
}

function readLock(path: string): Buffer | undefined {
  try {
    return readPlainFile(path, 4096);
  } catch (error) {
    throw new Error(`cannot read the lock ${path}: ${fsCode(error) === undefined ? (error as Error).message : fsCause(error)}`);
  }
}

/** Links a new lock file with `bytes` at `name`: true when this call created it, false when the name was taken. */
function linkNew(dir: string, name: string, bytes: Buffer): boolean {
  let tmp: string;
  try {
    tmp = writeNewFile(join(dir, `${LOCK}.tmp-`), bytes, false);
  } catch (error) {
    throw new Error(`cannot lock ${dir}: cannot write ${join(dir, `${LOCK}.tmp-*`)}: ${fsCause(error)}`);
  }
  try {
    linkSync(tmp, join(dir, name));
    return true;
  } catch (error) {
    if (fsCode(error) === 'EEXIST') return false;
    throw new Error(`cannot lock ${dir}: cannot link ${join(dir, name)}: ${fsCause(error)}`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Removes `name` if it still holds `bytes` (nobody else writes a name holding a live lock's bytes). */
function withdraw(dir: string, name: string, bytes: Buffer): void {
  const path = join(dir, name);
  try {
    if (readPlainFile(path, 4096)?.equals(bytes) === true) rmSync(path, { force: true });
  } catch {
    // Not ours to remove.
  }
}
