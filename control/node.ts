/**
 * @module One node's life, in one place: a discriminated union of its lifecycle states, each
 * holding only the fields it has (the process exists only while one runs or is being claimed),
 * changed only by `set`, which refuses illegal moves, logs each one and tells the owner
 * (`node 11: running -> restarting (its process was killed by SIGKILL)`), as grpc-js's
 * `transitionToState` and connect-es's `setState` do. Availability is derived from this state
 * and the liveness verdicts (availability.ts), never stored here.
 *
 *   starting ──▶ running ──▶ restarting ──▶ running ...
 *      │           │  ▲          └──▶ failed       (given up: too many restarts)
 *      │           │  └ linked ⇄ unlinked         (its path to the control is being made again)
 *      │           └──▶ exited                     (--restart never: it stays down)
 *      └──▶ stopped (its create failed)
 *   any but stopped ──▶ stopping ──▶ stopped       (removed, or the gateway stops)
 */
import type { Exit } from '../lib/supervised-process.js';
import type { Logger } from '../lib/logger.js';
import type { ComputingProcess } from './process.js';
import { RestartPolicy } from './restart-policy.js';

/** The lifecycle states by name, as the API shows them. */
export type NodeState = Life['t'];

export type Life =
  /** Being created: its process is being started and claimed (null until one is taken), then linked. */
  | { t: 'starting'; proc: ComputingProcess | null }
  /**
   * Serving. `linked`: its uplink is confirmed (it answered its latest link with a hello through
   * the tree); false from the moment its own or its parent's process changes, or a relink moves
   * it, until it answers again. Commands to it wait meanwhile; it is not unavailable.
   */
  | { t: 'running'; proc: ComputingProcess; linked: boolean }
  /** Its process exited unasked; a new one is being started (`proc` once taken). */
  | { t: 'restarting'; reason: string; lastExit: Exit | null; proc: ComputingProcess | null }
  /** Given up after crashing too often (or its host's data is gone). */
  | { t: 'failed'; reason: string; lastExit: Exit | null }
  /** Its process exited and `--restart never` leaves it down. */
  | { t: 'exited'; reason: string; lastExit: Exit }
  /** Being removed, or the gateway is stopping: its process (if any) is being stopped. */
  | { t: 'stopping'; why: string; proc: ComputingProcess | null }
  | { t: 'stopped'; why: string };

const LEGAL: Record<NodeState, readonly NodeState[]> = {
  starting: ['starting', 'running', 'stopping', 'stopped'],
  running: ['running', 'restarting', 'exited', 'stopping'],
  restarting: ['restarting', 'running', 'failed', 'stopping'],
  failed: ['stopping'],
  exited: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
};

export class IllegalTransition extends Error {
  override readonly name = 'IllegalTransition';
}

/** Told of every change, after it is made. */
export type LifeListener = (node: NodeHandle, from: Life) => void;

export class NodeHandle {
  private life: Life;
  /** Processes started for it after the first (restarts in place). */
  restarts = 0;
  /**
   * Names in its dictionary, for Topology: set by each hello (after a start, a restart from the
   * log, a relink), then counted up by stores that added a name. A store whose reply is lost
   * (deadline, crash) is counted at the next hello.
   */
  keys = 0;
  /** The pid that serves it, or the last one's while it restarts (Topology, the data dir). */
  pid: number | null = null;
  readonly policy: RestartPolicy;

  /** The host it runs on (the gateway's own, or an agent's); its log is there. Changed only by `moveTo`. */
  private where: string;

  constructor(
    readonly id: number,
    host: string,
    initial: Extract<Life, { t: 'starting' } | { t: 'restarting' }>,
    private readonly log: Logger,
    private readonly changed: LifeListener,
    policy = new RestartPolicy(),
  ) {
    this.life = initial;
    this.policy = policy;
    this.where = host;
  }

  get host(): string {
    return this.where;
  }

  /** Its data now lives on `host` (--replicas 2: its follower there took over); only between processes. */
  moveTo(host: string, why: string): void {
    if (host === this.where) return;
    if (this.process !== null) throw new IllegalTransition(`node ${this.id}: cannot move hosts while pid ${this.process.pid} serves it (${why})`);
    this.log.warn({ node: this.id, from: this.where, to: host, why }, `node ${this.id}: now on host ${host} (was ${this.where}): ${why}`);
    this.where = host;
  }

  get state(): Life {
    return this.life;
  }

  /** The process serving it now, or being claimed for it. */
  get process(): ComputingProcess | null {
    const life = this.life;
    return life.t === 'starting' || life.t === 'running' || life.t === 'restarting' || life.t === 'stopping' ? life.proc : null;
  }

  /** Stopping or gone: nothing may start, restart or link it. */
  get ending(): boolean {
    return this.life.t === 'stopping' || this.life.t === 'stopped';
  }

  /** Running and its path to the control confirmed. */
  get linked(): boolean {
    return this.life.t === 'running' && this.life.linked;
  }

  /** Why it is down by itself, in words, when its state says so. */
  get reason(): string | null {
    const life = this.life;
    return life.t === 'restarting' || life.t === 'failed' || life.t === 'exited' ? life.reason : null;
  }

  /** Moves to `next` if the lifecycle allows it from here; throws IllegalTransition otherwise. */
  set(next: Life, why: string): void {
    const from = this.life;
    if (!LEGAL[from.t].includes(next.t)) throw new IllegalTransition(`node ${this.id}: ${from.t} -> ${next.t} is not a legal move (${why})`);
    this.life = next;
    const proc = this.process;
    if (proc !== null) this.pid = proc.pid;
    if (from.t !== next.t) this.log.info({ node: this.id, from: from.t, to: next.t, why }, `node ${this.id}: ${from.t} -> ${next.t} (${why})`);
    else this.log.debug({ node: this.id, state: next.t, why }, `node ${this.id}: ${why}`);
    this.changed(this, from);
  }

  /** Its link is confirmed again (a hello answered), or must be made again; only while running. */
  setLinked(linked: boolean, why: string): void {
    const life = this.life;
    if (life.t !== 'running' || life.linked === linked) return;
    this.set({ ...life, linked }, why);
  }
}
