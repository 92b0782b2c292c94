/** @module Makes a rename durable: fsync of the directory that holds the entry. Node built-ins only. */
import { closeSync, fsyncSync, openSync } from 'node:fs';

export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
