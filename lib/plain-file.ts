/**
 * @module Files in a directory this process owns, written and read without following a link
 * someone planted there. A new file is created exclusively under a fresh random name
 * (O_CREAT | O_EXCL | O_NOFOLLOW): an existing name, a symbolic link above all, is never opened
 * for writing, so nothing outside the directory can be overwritten through it. A file read back
 * must be a regular file (a link is refused, a fifo cannot block the read). Node built-ins only.
 */
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fsCode } from './fs-cause.js';

const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const READ_PLAIN = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Writes `data` to a new file `<prefix><random>` (0600, synced first when `fsync`) and returns
 * its path. On failure nothing is left behind and the error is thrown as the call gave it.
 */
export function writeNewFile(prefix: string, data: Buffer, fsync: boolean): string {
  const path = `${prefix}${randomBytes(6).toString('hex')}`;
  const fd = openSync(path, NEW_FILE, 0o600);
  try {
    for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
    if (fsync) fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw error;
  }
  closeSync(fd);
  return path;
}

/** The bytes of regular file `path` (at most `limit`), or undefined when it does not exist. Throws for a link, a fifo or a directory. */
export function readPlainFile(path: string, limit = 1 << 24): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, READ_PLAIN);
  } catch (error) {
    if (fsCode(error) === 'ENOENT') return undefined;
    if (fsCode(error) === 'ELOOP') throw new Error(`${path} is a symbolic link, not a file`);
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${path} is not a regular file`);
    if (stat.size > limit) throw new Error(`${path} is larger than ${limit} bytes`);
    const bytes = Buffer.alloc(stat.size);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, done);
      if (n === 0) break;
      done += n;
    }
    return bytes.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}
