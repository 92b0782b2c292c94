/**
 * @module Where things live on disk: the private runtime directory (the ipc endpoints), the
 * nodes' logs, and the tree's shape.
 *
 * The runtime directory is created 0700 with a fresh name and removed on close: a restart after
 * a crash never meets stale sockets, and no other user can reach an endpoint.
 *
 * With `--data-dir DIR`: `DIR/nodes/<id>.wal` per node, `DIR/tree.json` (ids, places, heartbeat
 * interval, the pids last running), and `DIR/lock` naming the gateway that uses it (dir-lock.ts).
 * DIR and DIR/nodes are created 0700 when missing, and refused when another user owns them or
 * can write them (lib/private-dir.ts): such a user could plant a link where the gateway writes.
 * The tree file is replaced atomically (a new file of a fresh name, created exclusively, then a
 * rename) and saved before a change is acknowledged (saved-tree.ts), so a gateway killed at any
 * moment leaves at least every acknowledged change. Without a data dir the logs live in the
 * private runtime directory: a node crash loses nothing, and everything goes when the gateway exits.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fsCause, fsCode } from '../lib/fs-cause.js';
import { readPlainFile, writeNewFile } from '../lib/plain-file.js';
import { ensurePrivateDir } from '../lib/private-dir.js';
import { syncDirectory } from '../lib/sync-directory.js';
import type { Logger } from '../lib/logger.js';
import { DirLock } from './dir-lock.js';
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
  /** Keeps the tree's shape (a no-op without a data dir). Throws the file system's error when it cannot. */
  saveTree(tree: SavedTree): void;
  /** The tree file (null: none, nothing is kept). */
  readonly treeFile: string | null;
  removeLog(id: number): void;
}

/** The data dir cannot be used: in use by another gateway, not private, not writable, unreadable, or its tree file is corrupt. */
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
  readonly treeFile = null;

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
/** A tree file being written: a fresh random name each time (never an existing name, never through a link). */
const TREE_TEMP = `${TREE_FILE}.tmp-`;

export class DataDir implements NodeStorage {
  private readonly nodesDir: string;
  readonly treeFile: string;
  private lock: DirLock | undefined;

  private constructor(
    readonly path: string,
    readonly fsync: boolean,
  ) {
    this.nodesDir = join(path, 'nodes');
    this.treeFile = join(path, TREE_FILE);
  }

  /**
   * Creates DIR (0700) if needed, checks that it is private (ours, writable by nobody else) and
   * takes its lock. Throws DataDirError naming the path and the cause: another gateway holds it,
   * another user owns it or can write it, its file system is read-only...
   */
  static open(path: string, fsync: boolean): DataDir {
    const dir = new DataDir(resolve(path), fsync);
    try {
      ensurePrivateDir(dir.path);
      ensurePrivateDir(dir.nodesDir);
      dir.lock = DirLock.take(dir.path);
    } catch (error) {
      throw new DataDirError((error as Error).message);
    }
    dir.removeTemporaries();
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
    const file = this.treeFile;
    let text: string;
    try {
      const bytes = readPlainFile(file);
      if (bytes === undefined) return undefined;
      text = bytes.toString('utf8');
    } catch (error) {
      throw new DataDirError(`cannot read ${file}: ${fsCode(error) === undefined ? (error as Error).message : fsCause(error)}`);
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

  /**
   * Replaces the tree file atomically: written whole to a new file of a fresh name (created
   * exclusively, never through a link), synced with --fsync, renamed over the old one. Throws
   * the file system's error (the old file stays as it was).
   */
  saveTree(tree: SavedTree): void {
    const tmp = writeNewFile(join(this.path, TREE_TEMP), Buffer.from(`${JSON.stringify({ version: 1, ...tree })}\n`), this.fsync);
    try {
      renameSync(tmp, this.treeFile);
    } catch (error) {
      rmSync(tmp, { force: true });
      throw error;
    }
    if (this.fsync) syncDirectory(this.path);
  }

  /** Releases the lock (the data stays). */
  close(): void {
    this.lock?.release();
    this.lock = undefined;
  }

  /** Tree files left half-written by a gateway killed while saving (only the lock's holder writes them). */
  private removeTemporaries(): void {
    try {
      for (const name of readdirSync(this.path)) if (name.startsWith(TREE_TEMP)) rmSync(join(this.path, name), { force: true });
    } catch {
      // Left for the next start.
    }
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
