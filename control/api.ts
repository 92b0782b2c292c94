/**
 * @module The control's public types: its options, per-call limits, what its commands return,
 * the events it reports, and the defaults sized from this machine.
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import type { ClusterKeys } from '../link/index.js';
import type { Logger } from '../lib/logger.js';
import type { NodeState } from './node.js';

export interface ControlOptions {
  /** How long a command may wait for its node in all (default 2000 ms): reply, or the wait for a node that is moving or restarting. */
  requestTimeoutMs?: number;
  /**
   * How long each step of a create or a restart may take (default 10000 ms: a cold start under
   * load): its process's load, its log's replay, its first hello. Waiting for the starts queued
   * ahead of it, or for its parent's create, is not a step (see CREATE_WAIT_MS).
   */
  startTimeoutMs?: number;
  /** Where the private runtime directory is created (default: the OS temp dir). */
  runtimeParent?: string;
  /** The computing program (default: the built computing/bundle/main.js, else computing/main.js). */
  computingEntry?: string;
  /** Extra node flags for computing processes. */
  computingExecArgv?: readonly string[];
  /** Where the control logs (default: nowhere). */
  logger?: Logger;
  /** The most nodes the tree may hold (default DEFAULT_MAX_NODES). */
  maxNodes?: number;
  /** Restart a process that exits unasked (default `always`); `never` leaves the node down. */
  restart?: 'always' | 'never';
  /** Kill (and so restart) a node silent by itself for this long; 0 = never (default 30000). */
  hangRestartMs?: number;
  /** Keep the logs and the tree here across gateway runs (default: in the runtime dir, gone on exit). */
  dataDir?: string;
  /** Sync the disk before acknowledging a store (group commit), not only hand it to the OS. */
  fsync?: boolean;
  /** Copies of each node: 1 (default), or 2: a follower process beside each (chains.ts). */
  replicas?: 1 | 2;
  /** Spare processes to keep started ahead (default DEFAULT_POOL_SIZE; 0: start each on demand). */
  poolSize?: number;
  /** Keep the tree AVL-balanced by live rotations (default `avl`); `off`: the lab's plain search tree. */
  balance?: 'avl' | 'off';
  /**
   * Other hosts: agents join at `listen` (host:port, tcp with CURVE) with the cluster's `keys`;
   * off when absent (every node on this host, links over ipc only).
   */
  cluster?: { listen: string; keys: ClusterKeys };
  /** This host's name among the cluster's hosts (default `local`). */
  hostName?: string;
  /** Where a create without a host goes: this host (default), or the joined host with the fewest nodes. */
  placement?: 'local' | 'spread';
  /**
   * The liveness rules besides the interval (link/liveness.ts): a blocked event loop is found
   * within max(4T, `blockedLoopMs`) (default 10000); a node idle for `restAfterMs` goes quiet
   * (default 1000). Tests pass short ones.
   */
  liveness?: { blockedLoopMs?: number; restAfterMs?: number };
}

/** Spare processes kept started ahead: a create or restart that finds one costs a claim, not a start. */
export const DEFAULT_POOL_SIZE = 4;

/**
 * Per-call limits and cancellation from the caller, e.g. a gRPC call's deadline and its cancel.
 * The control never waits beyond `deadline`, and drops the call when `signal` aborts.
 */
export interface CallOptions {
  /** Absolute deadline, ms since the epoch: past it the call fails with `deadline`. */
  deadline?: number;
  /** Aborted when the caller gives up (cancel, stream ended): the call fails with `cancelled`. */
  signal?: AbortSignal;
}

export interface Created {
  id: number;
  pid: number;
  /** Where the tree placed the node; null for the root. */
  parent: number | null;
}

export interface ExecResult {
  id: number;
  name: string;
  found: boolean;
  value: bigint;
}

export interface KeysResult {
  id: number;
  /** Ascending by name bytes. */
  entries: { name: string; value: bigint }[];
  /** More names match after the last entry. */
  more: boolean;
  /** The node's revision when the page was read (see KeysResponse.revision). */
  revision: bigint;
}

export interface DeleteResult {
  id: number;
  name: string;
  /** The name had a value (it has none now either way). */
  found: boolean;
}

/** An acknowledged store (`put`) or delete of a name that had a value. */
export interface KeyEvent {
  id: number;
  name: string;
  kind: 'put' | 'delete';
  /** The value stored; for a delete, the value the name had until then (etcd's prev_kv). */
  value: bigint;
}

export type KeyEventListener = (event: KeyEvent) => void;

export interface PingResult {
  id: number;
  available: boolean;
}

export interface NodeSnapshot {
  id: number;
  parent: number | null;
  left: number | null;
  right: number | null;
  pid: number | null;
  depth: number;
  available: boolean;
  state: NodeState;
  /** Processes started for it after the first. */
  restarts: number;
  /** Names in its dictionary: as its process reported at its last hello, plus the new names stored since. */
  keys: number;
  /** Why it is unavailable, when it is. */
  reason: string | null;
  /** The host it runs on. */
  host: string;
  /** --replicas 2 only: its chain (its process above is the leader). */
  replica?: ReplicaSnapshot;
  /** Why its stores are refused now (`disk full`), or null. */
  readOnly: string | null;
}

/** Where a node's second copy is, and the chain's epoch (--replicas 2; chains.ts). */
export interface ReplicaSnapshot {
  epoch: number;
  followerState: 'none' | 'starting' | 'catching-up' | 'in-sync';
  followerPid: number | null;
  followerHost: string;
  solo: boolean;
}

export interface TopologySnapshot {
  /** Pre-order, left before right. */
  nodes: NodeSnapshot[];
  root: number | null;
  heartbeatMs: number;
  /** The tree is kept AVL-balanced (`--balance avl`). */
  balanced: boolean;
  /** When balanced: the deepest an AVL tree of this many nodes can be (edges). */
  depthBound: number | null;
}

export type NodeEventKind = 'created' | 'available' | 'unavailable' | 'exited' | 'restarted' | 'failed' | 'removed';

/**
 * Why a node is unavailable: its own process (exited, restarting, failed), its own silence, or
 * an unavailable node above it.
 */
export type DownCause = 'exit' | 'silence' | 'ancestor';

export interface NodeEvent {
  kind: NodeEventKind;
  id: number;
  /** Wall-clock time the control observed it. */
  time: Date;
  reason: string;
  /** For `unavailable`: the node's own exit or silence, or a node above it. */
  cause?: DownCause;
  exitCode?: number;
  signal?: string;
  /** For `created` and `restarted`: the new process. */
  pid?: number;
}

export type EventListener = (event: NodeEvent) => void;

/*
 * The node limit when none is given, sized from this machine so that a full tree never
 * exhausts it. An idle computing process's proportional share of memory (PSS) is the bench's
 * `scale: idle node PSS` row (docs/benchmarks.md); it grows with its dictionary. Each node gets a budget of
 * NODE_BUDGET_BYTES, and the tree may take half of the memory available when the gateway
 * starts. The gateway holds three pipe descriptors per process, so the open-file limit bounds it
 * too. Never more than MAX_DEFAULT_NODES: past that, pass --max-nodes on purpose.
 */

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

/** The node limit when none is given: sized from this machine's memory and open-file limit. */
export const DEFAULT_MAX_NODES = defaultMaxNodes();

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
