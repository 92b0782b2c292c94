/**
 * @module The control's public types: its options, per-call limits and what its commands return.
 */
import type { ClusterKeys } from '../computing/protocol/index.js';
import { defaultMaxNodes } from './capacity.js';
import type { Logger } from './logger.js';
import type { NodeState } from './node-handle.js';

export interface ControlOptions {
  /** How long a command may wait for its reply (default 2000 ms). */
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
}

/** The node limit when none is given: sized from this machine's memory and open-file limit (capacity.ts). */
export const DEFAULT_MAX_NODES = defaultMaxNodes();

/** Spare processes kept started ahead: a create or restart that finds one costs a claim, not a start. */
export const DEFAULT_POOL_SIZE = 4;

/** Per-call limits from the caller, e.g. the gRPC deadline. */
export interface CallOptions {
  /** Absolute deadline, ms since the epoch; the control never waits beyond it. */
  deadline?: number;
}

/** The deadline of a call: `defaultMs` from now, or the caller's own when that comes first. */
export function callDeadline(defaultMs: number, call: CallOptions): number {
  const own = Date.now() + defaultMs;
  return call.deadline === undefined ? own : Math.min(own, call.deadline);
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
