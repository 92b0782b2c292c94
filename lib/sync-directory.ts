/** @module Makes a rename durable: fsync of the directory that holds the entry. Node built-ins only. */
import { closeSync, constants, fsyncSync, openSync } from 'node:fs';

/** Opened as a directory (O_DIRECTORY): anything else planted at `dir` (a fifo would block an open) fails at once. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
