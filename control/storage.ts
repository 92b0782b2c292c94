/**
 * @module Where things live on disk: the private runtime directory (the ipc endpoints), the
 * nodes' logs, and the tree's shape.
 *
 * The runtime directory is created 0700 with a fresh name and removed on close: a restart after
 * a crash never meets stale sockets, and no other user can reach an endpoint.
 *
 * With `--data-dir DIR` (created 0700): `DIR/nodes/<id>.wal` per node, `DIR/tree.json` (ids,
 * places, heartbeat interval, the pids last running), and `DIR/lock` naming the gateway that uses
 * it. The tree file is replaced atomically (temporary file, rename) after every change and
 * before the change is acknowledged, so a gateway killed at any moment leaves the last
 * acknowledged shape. Without a data dir the logs live in the private runtime directory: a node
 * crash loses nothing, and everything goes when the gateway exits.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../lib/logger.js';
import { syncDirectory } from '../lib/sync-directory.js';
import { Topology, type Place } from './topology.js';

/** The private directory holding the ipc endpoints of one control: 0700, removed on close. */
export class RuntimeDir {
  readonly path: string;

  /** Creates a new, unique directory (so a restart after a crash never meets stale sockets). */
  constructor(parent = tmpdir()) {
    this.path = mkdtempSync(join(parent, 'arbor-'));
    chmodSync(this.path, 0o700);
  }

  /** Where node `id` listens for its children (ids are short: far below the ~107-byte ipc path limit). */
  nodeEndpoint(id: number): string {
    return `ipc://${this.path}/${id}`;
  }

  /** Where the root connects. */
  controlEndpoint(): string {
    return `ipc://${this.path}/control`;
  }

  /** Where every node's liveness link connects: a link to the control's current listener (control/liveness.ts). */
  livenessPath(): string {
    return `${this.path}/live`;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

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

/** The parts of the live tree a save reads. */
export interface TreeToSave {
  shape: Topology;
  heartbeatMs: number;
  /** Kept: nodes not still being created (not acknowledged yet; only such nodes hang below them). */
  kept(id: number): boolean;
  /** The pid serving the node; null for a node on another host (that host's, not waited for here). */
  pid(id: number): number | null;
  /** The host of a node on another host (it restarts there), else undefined. */
  remoteHost(id: number): string | undefined;
}

/** Saves the tree. A save that fails is logged, not thrown: the change it records has already been made. */
export function persistTree(storage: NodeStorage, tree: TreeToSave, log: Logger): void {
  const kept = (id: number | null): number | null => (id !== null && tree.kept(id) ? id : null);
  try {
    storage.saveTree({
      heartbeatMs: tree.heartbeatMs,
      root: kept(tree.shape.root),
      nodes: tree.shape
        .preorder()
        .filter((place) => kept(place.id) !== null)
        .map((place) => {
          const host = tree.remoteHost(place.id);
          return { ...place, left: kept(place.left), right: kept(place.right), pid: tree.pid(place.id), ...(host !== undefined && { host }) };
        }),
    });
  } catch (error) {
    log.error({ err: error }, 'cannot save the tree in the data dir');
  }
}

/** How long a gateway started on a data dir waits for the processes of its previous run to end. */
const OLD_PROCESS_GRACE_MS = 3000;

/**
 * A gateway started again on its data dir, after one that was killed: the old run's computing
 * processes may still be alive and writing their logs. They end by themselves once they see
 * their stdin close; this waits for them, so two processes never write one log. Stragglers are
 * killed.
 */
export async function waitForOldProcesses(saved: SavedTree, log: Logger): Promise<void> {
  const isOurs = (pid: number): boolean => {
    try {
      return existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('computing/main') && !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  const pids = saved.nodes.map((n) => n.pid).filter((pid): pid is number => pid !== null && isOurs(pid));
  const until = Date.now() + OLD_PROCESS_GRACE_MS;
  while (pids.some(isOurs) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
  for (const pid of pids.filter(isOurs)) {
    log.warn({ pid }, 'a computing process of the previous gateway is still running: killing it');
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}
