/**
 * @module Supervision: starting a node's process, placing it (the control is the only author of
 * tree links), noticing its exit, and restarting it in place from its log.
 *
 * Starting a process: spawn, `claim` on its control channel (id, endpoint, log), wait for
 * `ready` (log replayed, endpoint bound). Placing it: a `link` message (parent endpoint,
 * children, epoch), answered by a hello through the tree, which proves the new path. A parent
 * is always told of a new child before the child is told to connect, so no hello is refused.
 *
 * Restarts (`--restart always`): a process that exits without being asked to is replaced at
 * once, then after a backoff (restart-policy.ts); its children were never stopped, and are
 * re-pointed at the new process (same pids, same data) once it is attached. A node that keeps
 * crashing is given up (FAILED). A node that stays silent by itself (frozen, or its event loop
 * blocked) for `hangRestartMs` is killed so that it restarts.
 *
 * This class is the rest of the control's one view of all that, and does the stopping itself;
 * each part is a file of its own: node-creation.ts (a create), process-starter.ts (a ready
 * process, here or on another host), node-links.ts (links and hellos, heartbeat generations),
 * restarts.ts (an exit, and the restart after it), hang-watch.ts (killing a hung node).
 */
import type { ClusterKeys } from '../computing/protocol/index.js';
import type { Agents, Host } from './agents.js';
import type { Created } from './api.js';
import type { LinkChange } from './balance.js';
import { ComputingProcess } from './computing-process.js';
import type { NodeStorage } from './data-dir.js';
import type { Dispatch } from './dispatch.js';
import type { NodeEvent } from './events.js';
import { HangWatch } from './hang-watch.js';
import type { Liveness } from './liveness.js';
import type { Logger } from './logger.js';
import { NodeCreation } from './node-creation.js';
import type { NodeHandle } from './node-handle.js';
import { NodeLinks } from './node-links.js';
import { ProcessPool } from './process-pool.js';
import { ProcessStarter } from './process-starter.js';
import { Restarts } from './restarts.js';
import type { RuntimeDir } from './runtime-dir.js';
import type { Topology } from './topology.js';
export interface SupervisorOptions {
  computingEntry: string;
  computingExecArgv: readonly string[];
  startTimeoutMs: number;
  restart: 'always' | 'never';
  /** Kill a node silent by itself for this long (0: never). */
  hangRestartMs: number;
  /** Spare processes to keep started ahead (0: none; each start then waits for a whole process start). */
  poolSize: number;
  /** The node limit: spares count against it. */
  maxNodes: number;
  /** This host's name. */
  hostName: string;
}

/**
 * Other hosts (absent on a single host): the agents, the cluster's keys (given to local nodes on
 * their control channel, so their tcp endpoint and uplinks use CURVE), the address local nodes
 * bind tcp on (the cluster endpoint's), and the control's own tcp endpoint for a remote root.
 */
export interface SupervisorCluster {
  agents: Agents;
  keys: ClusterKeys;
  bindIp: string;
  controlTcp: () => string | undefined;
}

/** What the supervisor needs of the rest of the control. */
export interface SupervisorCore {
  shape: Topology;
  nodes: Map<number, NodeHandle>;
  liveness: Liveness;
  dispatch: Dispatch;
  dir: RuntimeDir;
  storage: NodeStorage;
  log: Logger;
  emit(event: Omit<NodeEvent, 'time'>): void;
  /** Re-derives availability after any change (events, fail-fast, waiters). */
  reassess(): void;
  /** Saves the tree (data dir) after an acknowledged change. */
  persist(): void;
  /** Whether commands are in flight or waiting: the pool's refills wait for a quiet moment. */
  busy(): boolean;
  /** A created node is attached: resolves once the tree is rebalanced around it. */
  attached(id: number): Promise<void>;
  isClosed(): boolean;
}

export class Supervisor {
  /** Where processes come from (spares started ahead). */
  readonly pool: ProcessPool;
  private readonly links: NodeLinks;
  private readonly hangs: HangWatch;
  private readonly restarts: Restarts;
  private readonly creation: NodeCreation;

  constructor(
    private readonly core: SupervisorCore,
    private readonly options: SupervisorOptions,
    cluster?: SupervisorCluster,
  ) {
    const spawn = (): ComputingProcess =>
      ComputingProcess.spawn(options.computingEntry, options.computingExecArgv, (line) => core.log.warn({ spare: true, stderr: line }, 'spare computing process wrote to stderr'));
    this.pool = new ProcessPool(spawn, () => (core.isClosed() ? 0 : Math.max(0, Math.min(options.poolSize, options.maxNodes - core.shape.size))), core.log, () => core.busy(), options.startTimeoutMs);
    const links = new NodeLinks(core, options.hostName, cluster);
    const hangs = new HangWatch(core, options.hangRestartMs);
    const starter = new ProcessStarter(core, options, this.pool, () => links.generation, (node, proc, exit) => this.restarts.exited(node, proc, exit), cluster);
    const start = (node: NodeHandle, fresh: boolean, deadline: number): Promise<void> => starter.start(node, fresh, deadline);
    this.links = links;
    this.hangs = hangs;
    this.restarts = new Restarts(core, options, { start, clearHang: (id) => hangs.clear(id) }, cluster?.agents);
    this.creation = new NodeCreation(core, {
      start,
      tell: (node) => links.tell(node),
      // Its first hello is a step of its own (a create's deadline covers its waiting too).
      placed: (node, deadline, onTimeout) => links.placed(node, Math.min(deadline, Date.now() + options.startTimeoutMs), onTimeout),
    });
  }

  /**
   * Starts node `id` (already checked: new, placed under `parent`) and resolves once it is
   * reachable. On any failure the node is taken out of the tree again.
   */
  create(id: number, deadline: number, host: string = this.options.hostName): Promise<Created> {
    return this.creation.create(id, deadline, host);
  }

  /** Resolves once no create is linking its new node (a relink must not change links under it). */
  attachesSettled(): Promise<void> {
    return this.creation.attachesSettled();
  }

  /** Whether any node is being created. */
  get anyStarting(): boolean {
    return this.creation.anyStarting;
  }

  /** Resolves once no node is being created. */
  noneStarting(): Promise<void> {
    return this.creation.noneStarting();
  }

  /** Sends each live node of `changes` its new place and waits for their hellos (see NodeLinks.relink). */
  relink(changes: readonly LinkChange[]): Promise<void> {
    return this.links.relink(changes);
  }

  /** Stops `node`'s process for good (remove): no restart follows. */
  async stopForRemove(node: NodeHandle): Promise<void> {
    this.hangs.clear(node.id);
    if (!node.ending) node.transition('stopping', 'removed');
    node.awaitedLinks.clear();
    const proc = node.process;
    node.process = null;
    if (proc !== null) await proc.stop();
    node.transition('stopped', 'removed');
  }

  /** Starts every node of a saved tree from its log (a gateway started again on its data dir). */
  restore(hosts: ReadonlyMap<number, string> = new Map()): void {
    this.restarts.restore(hosts);
  }

  /** Links every running node that is not attached, once the node above it can pass its hello on. */
  attachWaiting(): void {
    this.links.attachWaiting();
  }

  /** A hello came up the tree: the node answered link `epoch`, holding `keys` names. */
  hello(id: number, epoch: number, keys: number): boolean {
    return this.links.hello(id, epoch, keys);
  }

  /**
   * Availability was re-derived: creates whose parent went down for good end now, and the hang
   * clocks of nodes silent by themselves start or stop.
   */
  afterReassess(): void {
    this.creation.afterReassess();
    this.hangs.watch();
  }

  /** Stops every process (the control is closing). */
  async stopAll(): Promise<void> {
    this.restarts.stop();
    const spares = this.pool.close();
    this.hangs.clearAll();
    await Promise.all(
      [...this.core.nodes.values()].map(async (node) => {
        if (!node.ending) node.transition('stopping', 'the gateway is stopping');
        node.awaitedLinks.clear();
        const proc = node.process;
        if (proc !== null) await proc.stop();
        node.transition('stopped', 'stopped');
      }),
    );
    await spares;
  }

  /** Gives the whole tree a new heartbeat interval (see NodeLinks.reheartbeat). */
  reheartbeat(intervalMs: number, moveControl: (endpoint: string) => Promise<void>): Promise<void> {
    return this.links.reheartbeat(intervalMs, moveControl);
  }

  /** A host joined, came back or was lost: restarts waiting for it go on. */
  hostChanged(host: Host): void {
    this.restarts.hostChanged(host);
  }
}
