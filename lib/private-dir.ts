/**
 * @module A directory only this user can change. Files written there are trusted, so it must be
 * ours and writable by nobody else: otherwise another user could plant a link where a file is
 * about to be written, or replace what is read back. As PostgreSQL does for its data directory
 * and ssh's StrictModes for keys, such a directory is refused, never silently used or chmod-ed.
 * Node built-ins only.
 */
import { lstatSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fsCause, fsCode } from './fs-cause.js';

/**
 * Creates `path` (and each missing parent) 0700 when missing, then checks it: a directory (a
 * symbolic link to one is followed only when the link is ours or root's), owned by this user,
 * and not writable by group or others. Throws an Error that names the path and the cause.
 */
export function ensurePrivateDir(path: string): void {
  const full = resolve(path);
  makeMissing(full);
  const euid = process.geteuid?.() ?? 0;
  const link = lstatSync(full);
  if (link.isSymbolicLink() && link.uid !== euid && link.uid !== 0) {
    throw new Error(`${full} is a symbolic link owned by another user (uid ${link.uid}); it could be pointed anywhere: use the directory itself`);
  }
  const dir = statSync(full);
  if (!dir.isDirectory()) throw new Error(`${full} is not a directory`);
  if (dir.uid !== euid) throw new Error(`${full} is owned by another user (uid ${dir.uid}, this process runs as uid ${euid}); use a directory of your own`);
  if ((dir.mode & 0o022) !== 0) {
    const mode = (dir.mode & 0o7777).toString(8).padStart(4, '0');
    throw new Error(`${full} can be written by other users (mode ${mode}); make it private first: chmod 700 ${full}`);
  }
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
      if (fsCode(error) !== 'ENOENT') throw new Error(`cannot use ${at}: ${fsCause(error)}`);
      missing.unshift(at);
      if (dirname(at) === at) break;
    }
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      // Made meanwhile by someone else: the checks that follow judge it.
      if (fsCode(error) !== 'EEXIST') throw new Error(`cannot create ${dir}: ${fsCause(error)}`);
    }
  }
}
