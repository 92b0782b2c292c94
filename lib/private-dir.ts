/**
 * @module A directory only this user may change: made 0700 when missing, refused when found
 * owned by another user or writable by group or others. Node built-ins only.
 *
 * A data directory holds the nodes' logs, which a node reads back as its store when it starts
 * again: whoever can write into the directory (or swap it, when it is theirs) decides what the
 * nodes hold, and can read what they store. So a directory found in such a state is refused, not
 * used and not repaired (its content may already be someone else's): the rule of PostgreSQL's
 * data directory and of ssh's StrictModes. The message names the path, what was found and the fix.
 *
 * Only the directory itself is checked (its parents may be shared ones such as /tmp). The check
 * follows a symbolic link only when the link is ours or root's (another user could point it
 * anywhere): it is the directory written into that must be private.
 */
import { lstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fsCause, fsCode } from './fs-cause.js';

/** What the check needs of a directory's stat. */
export interface DirStat {
  uid: number;
  /** st_mode (type and permission bits). */
  mode: number;
  isDirectory: boolean;
}

/** The directory at the path cannot be used as a private directory; the message says why and the fix. */
export class PrivateDirError extends Error {
  override readonly name = 'PrivateDirError';
}

const octal = (mode: number): string => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;

/**
 * Why `found` (the stat of `path`) is not a private directory of user `uid`, or undefined when it
 * is one. `names` gives user names for uids, where known (for the message only).
 */
export function privateDirProblem(path: string, found: DirStat, uid: number, names: (uid: number) => string | undefined = () => undefined): string | undefined {
  const who = (id: number): string => {
    const name = names(id);
    return name === undefined ? `uid ${id}` : `uid ${id} (${name})`;
  };
  if (!found.isDirectory) return `${path} is not a directory: remove it or choose another directory`;
  const otherOwner = found.uid !== uid;
  const openToOthers = (found.mode & 0o022) !== 0;
  if (!otherOwner && !openToOthers) return undefined;
  const what = `${path} is not a private directory: found owner ${who(found.uid)}, mode ${octal(found.mode)}; it must belong to ${who(uid)} and not be writable by group or others (0700)`;
  // Someone else's directory is not to be trusted, whatever its mode now: start afresh elsewhere.
  if (otherOwner) return `${what}. Fix: remove it (its content may be someone else's) and it is created again, or choose another directory`;
  return `${what}. Fix: chmod 700 ${path}`;
}

/** User names of /etc/passwd by uid (for messages; empty when it cannot be read). */
function passwdNames(): (uid: number) => string | undefined {
  const names = new Map<number, string>();
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name !== undefined && id !== undefined && /^\d+$/.test(id)) names.set(Number(id), name);
    }
  } catch {
    // No names then: the message gives uids.
  }
  return (uid) => names.get(uid);
}

/**
 * Makes `path` a private directory of this process's user: creates it (and each missing parent)
 * mode 0700 when missing, then checks what is there. Throws PrivateDirError saying what is wrong
 * and the fix. Where the platform has no uids (Windows), only the creation is done.
 */
export function ensurePrivateDir(path: string): void {
  const full = resolve(path);
  makeMissing(full);
  const uid = process.geteuid?.();
  if (uid === undefined) return;
  let found: DirStat;
  try {
    const link = lstatSync(full);
    if (link.isSymbolicLink() && link.uid !== uid && link.uid !== 0) {
      throw new PrivateDirError(`${full} is a symbolic link owned by another user (uid ${link.uid}); it could be pointed anywhere: use the directory itself`);
    }
    const st = statSync(full);
    found = { uid: st.uid, mode: st.mode, isDirectory: st.isDirectory() };
  } catch (error) {
    if (error instanceof PrivateDirError) throw error;
    throw new PrivateDirError(`cannot use ${full}: ${fsCause(error)}`);
  }
  const problem = privateDirProblem(full, found, uid);
  if (problem !== undefined) throw new PrivateDirError(privateDirProblem(full, found, uid, passwdNames()) ?? problem);
}

/**
 * Creates each missing directory of `full`, one level at a time, so that a failure names the
 * level and its real cause (a recursive mkdir reports ENOENT on a read-only file system).
 */
function makeMissing(full: string): void {
  const missing: string[] = [];
  for (let at = full; ; at = dirname(at)) {
    try {
      statSync(at);
      break;
    } catch (error) {
      if (fsCode(error) !== 'ENOENT') throw new PrivateDirError(`cannot use ${at}: ${fsCause(error)}`);
      missing.unshift(at);
      if (dirname(at) === at) break;
    }
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      // Made meanwhile by someone else: the checks that follow judge it.
      if (fsCode(error) !== 'EEXIST') throw new PrivateDirError(`cannot create ${dir}: ${fsCause(error)}`);
    }
  }
}
