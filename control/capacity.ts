/**
 * @module The default node limit, sized from this machine so that a full tree never exhausts it.
 *
 * Measured (bench `scale`): an idle computing process's proportional share of memory (PSS) is
 * 8-9 MB; it grows with its dictionary. Each node gets a budget of NODE_BUDGET_BYTES, and the
 * tree may take half of the memory available when the gateway starts. The gateway holds three
 * pipe descriptors per process, so the open-file limit bounds it too. Never more than
 * MAX_DEFAULT_NODES: past that, pass --max-nodes on purpose.
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';

/** Twice an idle node's measured PSS: room for its data and its share of the gateway. */
export const NODE_BUDGET_BYTES = 16 * 2 ** 20;
export const MAX_DEFAULT_NODES = 1000;
const MIN_DEFAULT_NODES = 16;
/** Descriptors per node in the gateway (stdin, stdout, stderr pipes), plus its own spare ones. */
const FDS_PER_NODE = 4;
const FDS_RESERVED = 256;

export function defaultMaxNodes(memAvailable = memAvailableBytes(), openFiles = openFileLimit()): number {
  const byMemory = Math.floor((0.5 * memAvailable) / NODE_BUDGET_BYTES);
  const byFiles = openFiles === undefined ? Infinity : Math.floor((openFiles - FDS_RESERVED) / FDS_PER_NODE);
  return Math.max(MIN_DEFAULT_NODES, Math.min(MAX_DEFAULT_NODES, byMemory, byFiles));
}

/** MemAvailable from /proc/meminfo (the kernel's estimate, page cache included), else free memory. */
function memAvailableBytes(): number {
  try {
    const match = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}

/** The soft limit on open files, or undefined when unknown or unlimited. */
function openFileLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (match) return Number(match[1]);
  } catch {
    // not Linux
  }
  return undefined;
}
