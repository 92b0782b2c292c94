/**
 * @module One node's life, in one place: its lifecycle state, its current process, whether its
 * link to its parent is confirmed, whether it is reachable, and its restart history.
 *
 * Every state change goes through `transition`, which refuses illegal moves and logs each one
 * (`node 11: running -> restarting (its process was killed by SIGKILL)`), as grpc-js's
 * `transitionToState` and connect-es's `setState` do. No other code assigns `state`.
 *
 *   starting ──▶ running ──▶ restarting ──▶ running ...
 *      │            │            └──▶ failed        (given up: too many restarts)
 *      │            └──▶ exited                     (--restart never: it stays down)
 *      └──▶ stopped (its create failed)
 *   any but stopped ──▶ stopping ──▶ stopped        (gateway shutdown)
 */
import type { Exit } from '../lib/supervised-process.js';
import type { ComputingProcess } from './computing-process.js';
import type { Logger } from './logger.js';
import { RestartPolicy } from './restart-policy.js';

export type NodeState = 'starting' | 'running' | 'restarting' | 'failed' | 'exited' | 'stopping' | 'stopped';

const LEGAL: Record<NodeState, readonly NodeState[]> = {
  starting: ['running', 'stopping', 'stopped'],
  running: ['restarting', 'exited', 'stopping'],
  restarting: ['running', 'failed', 'stopping'],
  failed: ['stopping'],
  exited: ['stopping'],
  stopping: ['stopped'],
  stopped: [],
};

export class IllegalTransition extends Error {
  override readonly name = 'IllegalTransition';
}

export class NodeHandle {
  private current: NodeState;
  /** The process serving this node now (null between a crash and its replacement). */
  process: ComputingProcess | null = null;
  /** Its pid, or the last one's while it restarts. */
  pid: number | null = null;
  /**
   * Its uplink is confirmed: the node answered its latest link with a hello through the tree.
   * False from the moment its own process or its parent's is replaced until it answers again.
   */
  attached = false;
  /**
   * Reachable through the tree right now: running, attached, heard within 4 x the heartbeat
   * interval, and so is every node above it. Commands to an unavailable node wait or fail fast.
   */
  available = false;
  /**
   * Links sent and not yet answered, by epoch. The node applies its links in the order sent, so
   * a hello for epoch e answers every link up to e.
   */
  readonly awaitedLinks = new Map<number, () => void>();
  /** A link to re-attach it is in flight (see NodeLinks.attachWaiting). */
  attaching = false;
  /** How its last process ended. */
  lastExit: Exit | null = null;
  /** Why it is down in words (the last exit, a fatal message, why it was given up). */
  reason: string | null = null;
  /** Processes started after the first. */
  restarts = 0;
  /**
   * Names in its dictionary, for Topology: set by each hello (after a start, a restart from the
   * log, a relink), then counted up by stores that added a name. A store whose reply is lost
   * (deadline, crash) is counted at the next hello.
   */
  keys = 0;
  readonly policy: RestartPolicy;
  /** Killed by the control because it hung: its exit is expected, its restart is not. */
  hangKilled = false;
  /**
   * The endpoint its process binds for its children, and the link generation it belongs to
   * (each heartbeat interval is a new generation of endpoints; see NodeLinks.reheartbeat).
   */
  endpoint: string | null = null;
  generation = 0;
  /** The host it runs on (the gateway's own: `local`, or its --name), and its tcp endpoint for children on other hosts. */
  host = 'local';
  tcpEndpoint: string | null = null;
  /** Its host's agent is not connected (a partition, or the agent died): not reachable, whatever its links say. */
  hostLost = false;

  constructor(
    readonly id: number,
    initial: 'starting' | 'restarting',
    private readonly log: Logger,
    policy = new RestartPolicy(),
  ) {
    this.current = initial;
    this.policy = policy;
  }

  get state(): NodeState {
    return this.current;
  }

  /** Moves to `to` if the lifecycle allows it from here; throws IllegalTransition otherwise. */
  transition(to: NodeState, why: string): void {
    const from = this.current;
    if (!LEGAL[from].includes(to)) throw new IllegalTransition(`node ${this.id}: ${from} -> ${to} is not a legal move (${why})`);
    this.current = to;
    this.log.info({ node: this.id, from, to, why }, `node ${this.id}: ${from} -> ${to} (${why})`);
  }

  /** Stopping or gone: nothing may start or restart it. */
  get ending(): boolean {
    return this.current === 'stopping' || this.current === 'stopped';
  }

  /** Its process is starting, for a create or a restart: commands to it wait. */
  get coming(): boolean {
    return this.current === 'starting' || this.current === 'restarting';
  }
}
