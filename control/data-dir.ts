/**
 * @module Where the nodes' logs and the tree's shape live.
 *
 * With `--data-dir DIR` (created 0700): `DIR/nodes/<id>.wal` per node, `DIR/tree.json` (ids,
 * places, heartbeat interval, the pids last running), and `DIR/lock` naming the gateway that uses
 * it. The tree file is replaced atomically (temporary file, rename) after every change and
 * before the change is acknowledged, so a gateway killed at any moment leaves the last
 * acknowledged shape. Without a data dir the logs live in the private runtime directory: a node
 * crash loses nothing, and everything goes when the gateway exits.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { syncDirectory } from '../lib/sync-directory.js';
import { Topology, type Place } from './topology.js';

export interface SavedNode extends Place {
  /** The pid that last served it (a gateway started again waits for it to be gone). */
  pid: number | null;
  /** Other hosts: the host it runs on, when not the gateway's (its log is there). */
  host?: string;
}

export interface SavedTree {
  heartbeatMs: number;
  root: number | null;
  nodes: SavedNode[];
}

/** Where each node's log is, and whether the tree is kept across gateway runs. */
export interface NodeStorage {
  /** Where node `id` keeps its log; null: in memory only. */
  logPath(id: number): string | null;
  /** Syncs the disk before acknowledging (the nodes' logs and the tree file). */
  readonly fsync: boolean;
  /** Keeps the tree's shape (a no-op without a data dir). */
  saveTree(tree: SavedTree): void;
  removeLog(id: number): void;
}

/** The data dir cannot be used: in use by another gateway, unreadable, or its tree file is corrupt. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

/**
 * Logs in the private runtime directory, gone with the gateway: enough for a node to restart
 * from. With `logs` false (`--restart never`, no data dir) nothing would ever be read back, so
 * nodes keep their dictionaries in memory only, as the lab's original did.
 */
export class EphemeralStorage implements NodeStorage {
  private readonly dir: string;

  constructor(
    runtimeDir: string,
    private readonly logs: boolean,
    readonly fsync = false,
  ) {
    this.dir = join(runtimeDir, 'logs');
    if (logs) mkdirSync(this.dir, { mode: 0o700 });
  }

  logPath(id: number): string | null {
    return this.logs ? join(this.dir, `${id}.wal`) : null;
  }

  saveTree(): void {}

  removeLog(id: number): void {
    const path = this.logPath(id);
    if (path !== null) rmSync(path, { force: true });
  }
}

const TREE_FILE = 'tree.json';
const LOCK_FILE = 'lock';

/** The process start time from /proc (field 22), to tell a live lock holder from a recycled pid. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

export class DataDir implements NodeStorage {
  private readonly nodesDir: string;
  private readonly lockPath: string;
  private locked = false;

  private constructor(
    readonly path: string,
    readonly fsync: boolean,
  ) {
    this.nodesDir = join(path, 'nodes');
    this.lockPath = join(path, LOCK_FILE);
  }

  /** Creates DIR (0700) if needed and takes its lock. Throws DataDirError when another gateway holds it. */
  static open(path: string, fsync: boolean): DataDir {
    const dir = new DataDir(path, fsync);
    try {
      mkdirSync(path, { recursive: true, mode: 0o700 });
      if (!statSync(path).isDirectory()) throw new DataDirError(`${path} is not a directory`);
      mkdirSync(dir.nodesDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      if (error instanceof DataDirError) throw error;
      throw new DataDirError(`cannot create ${path}: ${(error as Error).message}`);
    }
    dir.lock();
    return dir;
  }

  logPath(id: number): string {
    return join(this.nodesDir, `${id}.wal`);
  }

  removeLog(id: number): void {
    rmSync(this.logPath(id), { force: true });
  }

  /** The tree a gateway left here, or undefined for a new directory. Throws DataDirError when the file is corrupt. */
  loadTree(): SavedTree | undefined {
    const file = join(this.path, TREE_FILE);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new DataDirError(`cannot read ${file}: ${(error as Error).message}`);
    }
    const problem = (what: string): DataDirError => new DataDirError(`${file} is corrupt (${what}); refusing to start rather than lose the tree`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw problem('not JSON');
    }
    const tree = raw as Partial<SavedTree> & { version?: unknown };
    if (tree.version !== 1 || typeof tree.heartbeatMs !== 'number' || !Array.isArray(tree.nodes)) throw problem('missing version, heartbeatMs or nodes');
    if (!Number.isInteger(tree.heartbeatMs) || tree.heartbeatMs < 0) throw problem(`heartbeatMs ${tree.heartbeatMs}`);
    const isLink = (v: unknown): boolean => v === null || (Number.isInteger(v) && (v as number) >= 0);
    for (const n of tree.nodes as unknown[]) {
      const node = n as Partial<SavedNode>;
      if (!Number.isInteger(node.id) || (node.id as number) < 0 || !isLink(node.parent) || !isLink(node.left) || !isLink(node.right) || !isLink(node.pid) || !(node.host === undefined || typeof node.host === 'string')) {
        throw problem(`a node entry ${JSON.stringify(n).slice(0, 80)}`);
      }
    }
    const root = tree.root ?? null;
    const shape = Topology.fromPlaces(root, tree.nodes);
    if (typeof shape === 'string') throw problem(shape);
    return { heartbeatMs: tree.heartbeatMs, root, nodes: tree.nodes };
  }

  saveTree(tree: SavedTree): void {
    const file = join(this.path, TREE_FILE);
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify({ version: 1, ...tree })}\n`);
      if (this.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    if (this.fsync) syncDirectory(this.path);
  }

  /** Releases the lock (the data stays). */
  close(): void {
    if (this.locked) rmSync(this.lockPath, { force: true });
    this.locked = false;
  }

  private lock(): void {
    const mine = JSON.stringify({ pid: process.pid, start: startTimeOf(process.pid) });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o600);
        writeSync(fd, mine);
        closeSync(fd);
        this.locked = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new DataDirError(`cannot lock ${this.path}: ${(error as Error).message}`);
      }
      let holder: { pid?: unknown; start?: unknown } = {};
      try {
        holder = JSON.parse(readFileSync(this.lockPath, 'utf8')) as typeof holder;
      } catch {
        // Unreadable or half-written: whoever wrote it did not live to finish.
      }
      if (typeof holder.pid === 'number' && startTimeOf(holder.pid) !== undefined && startTimeOf(holder.pid) === holder.start) {
        throw new DataDirError(`${this.path} is in use by another gateway (pid ${holder.pid}); stop it first, or use another --data-dir`);
      }
      // The holder is gone (killed without a chance to unlock): take the lock over.
      rmSync(this.lockPath, { force: true });
    }
    throw new DataDirError(`cannot lock ${this.path}: another gateway keeps taking it`);
  }
}
