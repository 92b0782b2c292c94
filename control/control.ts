/**
 * @module The control core: keeps the search tree, and sends every command down it over
 * ZeroMQ, matching replies by correlation id. No gRPC here: the gateway translates.
 *
 * The parts, one concern each: `Topology` (the shape), `NodeHandle` (one node's life),
 * `Supervisor` (processes: start, place, exit, restart), `Liveness` (who is reachable and why
 * not), `Dispatch` (send a command now, or make it wait), `PendingRequests` (what is in flight),
 * `Relinker` (rotations and removes), `CreateAdmission` (may a create go ahead, and to which
 * host), `NodeRequests` (exec and ping), `Reassessor` (what follows a change of availability),
 * root-messages.ts (what comes up from the root), tree-persistence.ts (what the data dir keeps).
 * This file wires them together and is the public face.
 *
 * Ordering: commands are written to the root link in the order they are called, each node is
 * single-threaded and every link is FIFO, so commands to one node run in call order. A command
 * for a node still being created, or being restarted, waits for it, and only for it.
 */
import {
  type CallOptions,
  callDeadline,
  type ControlOptions,
  type Created,
  DEFAULT_MAX_NODES,
  DEFAULT_POOL_SIZE,
  type ExecResult,
  type PingResult,
  type TopologySnapshot,
} from './api.js';
import { Agents, type Host } from './agents.js';
import { maxAvlDepth } from './balance.js';
import { defaultComputingEntry } from './computing-process.js';
import { CreateAdmission } from './create-admission.js';
import { DataDir, EphemeralStorage, type NodeStorage, type SavedTree } from './data-dir.js';
import { Dispatch } from './dispatch.js';
import { ArborError, nodeUnavailable } from './errors.js';
import { type EventListener, EventHub, type NodeEvent } from './events.js';
import { Liveness } from './liveness.js';
import { type Logger, silentLogger } from './logger.js';
import type { NodeHandle } from './node-handle.js';
import { NodeRequests } from './node-requests.js';
import { waitForOldProcesses } from './old-processes.js';
import { PendingRequests } from './pending-requests.js';
import { Reassessor } from './reassessor.js';
import { RootLink, type RootLinkHandlers } from './root-link.js';
import { rootLinkHandlers } from './root-messages.js';
import { RuntimeDir } from './runtime-dir.js';
import { Relinker } from './relinker.js';
import { Supervisor } from './supervisor.js';
import { Topology } from './topology.js';
import { persistTree } from './tree-persistence.js';

/**
 * How long a create without a deadline of its own may wait in all: for the starts queued ahead
 * of it (two per core at once), for its parent's create, then its own steps, each bounded by
 * startTimeoutMs. Bounding the whole create by startTimeoutMs failed most of a piped script of
 * 200 creates: 117 of them, "no process could be started in time" and then "Parent N is
 * unavailable" for their children, though every start was making progress.
 */
const CREATE_WAIT_MS = 10 * 60_000;

export class Control {
  private readonly shape: Topology;
  private readonly nodes = new Map<number, NodeHandle>();
  private readonly pending = new PendingRequests();
  private readonly events = new EventHub();
  private readonly liveness: Liveness;
  private readonly dispatch: Dispatch;
  private readonly supervisor: Supervisor;
  private readonly relinker: Relinker;
  private readonly reassessor: Reassessor;
  private readonly admission: CreateAdmission;
  private readonly requests: NodeRequests;
  private link!: RootLink;
  private closed = false;
  private readonly startTimeoutMs: number;
  private readonly log: Logger;
  /** This host's name, and where creates without a host go. */
  readonly hostName: string;

  private constructor(
    private readonly dir: RuntimeDir,
    private readonly storage: NodeStorage,
    saved: SavedTree | undefined,
    options: ControlOptions,
    private readonly agents?: Agents,
  ) {
    this.hostName = options.hostName ?? 'local';
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.log = options.logger ?? silentLogger;
    const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
    this.shape = saved === undefined ? new Topology() : (Topology.fromPlaces(saved.root, saved.nodes) as Topology);
    this.liveness = new Liveness(this.shape, this.nodes, () => this.reassess(), (id) => this.link.isConnected(id));
    this.dispatch = new Dispatch(this.shape, this.nodes, this.liveness, this.pending, { send: (root, rec) => this.link.send(root, rec) });
    this.supervisor = new Supervisor(
      {
        shape: this.shape,
        nodes: this.nodes,
        liveness: this.liveness,
        dispatch: this.dispatch,
        dir,
        storage,
        log: this.log,
        emit: (event) => this.emit(event),
        reassess: () => this.reassess(),
        persist: () => this.persist(),
        attached: (id) => this.relinker.rebalanceAfterInsert(id),
        isClosed: () => this.closed,
        busy: () => this.pending.size > 0 || this.dispatch.hasWaiting || this.supervisor.anyStarting,
      },
      {
        computingEntry: options.computingEntry ?? defaultComputingEntry(),
        computingExecArgv: options.computingExecArgv ?? [],
        startTimeoutMs: this.startTimeoutMs,
        restart: options.restart ?? 'always',
        hangRestartMs: options.hangRestartMs ?? 30_000,
        poolSize: options.poolSize ?? DEFAULT_POOL_SIZE,
        maxNodes,
        hostName: this.hostName,
      },
      agents === undefined || options.cluster === undefined
        ? undefined
        : { agents, keys: options.cluster.keys, bindIp: clusterIp(options.cluster.listen), controlTcp: () => this.link.tcpEndpoint },
    );
    this.relinker = new Relinker(
      {
        shape: this.shape,
        nodes: this.nodes,
        dispatch: this.dispatch,
        pending: this.pending,
        liveness: this.liveness,
        supervisor: this.supervisor,
        log: this.log,
        emit: (event) => this.emit(event),
        reassess: () => this.reassess(),
        persist: () => this.persist(),
        removeLog: (id) => storage.removeLog(id),
      },
      options.balance ?? 'avl',
    );
    this.reassessor = new Reassessor(
      {
        shape: this.shape,
        nodes: this.nodes,
        liveness: this.liveness,
        pending: this.pending,
        supervisor: this.supervisor,
        dispatch: this.dispatch,
        emit: (event) => this.emit(event),
        isClosed: () => this.closed,
      },
      this.hostName,
    );
    this.admission = new CreateAdmission(
      { shape: this.shape, nodes: this.nodes, dispatch: this.dispatch, isClosed: () => this.closed },
      { maxNodes, hostName: this.hostName, placement: options.placement ?? 'local' },
      agents,
    );
    this.requests = new NodeRequests({ nodes: this.nodes, dispatch: this.dispatch, relinker: this.relinker }, options.requestTimeoutMs ?? 2000);
    if (saved !== undefined) this.liveness.setInterval(saved.heartbeatMs);
  }

  /**
   * Creates the runtime directory, binds the link to the root, and, with a data dir that holds
   * a tree, starts every node of it from its log and waits until each is back (or given up).
   * Throws DataDirError when the data dir is in use or its tree file is corrupt.
   */
  static async start(options: ControlOptions = {}): Promise<Control> {
    const dataDir = options.dataDir === undefined ? undefined : DataDir.open(options.dataDir, options.fsync ?? false);
    let saved: SavedTree | undefined;
    try {
      saved = dataDir?.loadTree();
    } catch (error) {
      dataDir?.close();
      throw error;
    }
    const dir = new RuntimeDir(options.runtimeParent);
    const storage = dataDir ?? new EphemeralStorage(dir.path, (options.restart ?? 'always') === 'always', options.fsync ?? false);
    let control: Control | undefined;
    let agents: Agents | undefined;
    try {
      if (options.cluster !== undefined) {
        agents = await Agents.open(options.cluster.listen, options.cluster.keys, options.logger ?? silentLogger, (host) => control?.hostChanged(host), options.hostName ?? 'local');
      }
      control = new Control(dir, storage, saved, options, agents);
      const tcp = options.cluster === undefined ? undefined : { keys: options.cluster.keys, also: `tcp://${clusterIp(options.cluster.listen)}:*` };
      control.link = await RootLink.open(dir.controlEndpoint(0), saved?.heartbeatMs ?? 0, control.rootLinkHandlers(), control.log, tcp);
    } catch (error) {
      await agents?.close();
      dir.remove();
      dataDir?.close();
      throw error;
    }
    if (saved !== undefined && saved.nodes.length > 0) {
      await waitForOldProcesses(saved, control.log);
      control.supervisor.restore(new Map(saved.nodes.filter((n) => n.host !== undefined).map((n) => [n.id, n.host as string])));
      await control.reassessor.settled(2 * control.startTimeoutMs);
    }
    return control;
  }

  /**
   * Starts the pool's spare processes (`poolSize`). Not done by `start`: each spawn blocks the
   * event loop for the fork of a big process (about 25 ms here), so the gateway calls this right
   * after it prints that it listens; a create that comes first starts its own process.
   */
  startPool(): void {
    this.supervisor.pool.refill();
  }

  /** Requests in flight inside the tree (for tests and metrics). */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Spare processes ready to be claimed (for metrics). */
  get spareProcesses(): number {
    return this.supervisor.pool.size;
  }

  /** The heartbeat interval in force (0: off). */
  get heartbeatInterval(): number {
    return this.liveness.interval;
  }

  /** A copy of the tree as it is now. */
  topology(): TopologySnapshot {
    const nodes = this.shape.preorder().map((place) => {
      const node = this.nodes.get(place.id) as NodeHandle;
      return {
        id: place.id,
        parent: place.parent,
        left: place.left,
        right: place.right,
        pid: node.pid,
        depth: this.shape.depth(place.id),
        available: node.available,
        state: node.state,
        restarts: node.restarts,
        keys: node.keys,
        host: node.host,
        reason: node.available ? null : (this.liveness.whyDown(place.id) ?? node.reason),
      };
    });
    const balanced = this.relinker.balance === 'avl';
    return { nodes, root: this.shape.root, heartbeatMs: this.liveness.interval, balanced, depthBound: balanced ? maxAvlDepth(nodes.length) : null };
  }

  /** Subscribes to availability events; returns the function that unsubscribes. */
  subscribe(listener: EventListener): () => void {
    return this.events.subscribe(listener);
  }

  /**
   * Starts computing node `id` under the node the search tree places it at. Resolves once the
   * process is connected and reachable. Rejects with `exists`, `not-found` (parent given and
   * missing), `wrong-parent` (parent given, tree places it elsewhere) or `unavailable`.
   */
  create(id: number, parent: number | undefined, call: CallOptions = {}, host?: string): Promise<Created> {
    // After a remove that is still going on, as if typed once it was answered.
    if (this.relinker.removing) return this.relinker.whenNoRemoval().then(() => this.create(id, parent, call, host));
    const where = this.admission.check(id, parent, host);
    if (where instanceof ArborError) return Promise.reject(where);
    return this.supervisor.create(id, callDeadline(CREATE_WAIT_MS, call), where);
  }

  /** This host and every joined one. */
  hostNames(): string[] {
    return this.admission.hostNames();
  }

  /** The address agents join at (host:port), when other hosts are on. */
  get clusterAddress(): string | undefined {
    return this.agents?.address;
  }

  private hostChanged(host: Host): void {
    for (const node of this.nodes.values()) if (node.host === host.name) node.hostLost = !host.connected;
    this.supervisor.hostChanged(host);
    this.reassess();
  }

  /**
   * Stores `value` under `name` in node `id` (or loads `name` when `value` is undefined).
   * Rejects with `not-found` or `unavailable`.
   */
  exec(id: number, name: string, value: bigint | undefined, call: CallOptions = {}): Promise<ExecResult> {
    return this.requests.exec(id, name, value, call);
  }

  /**
   * Checks that node `id` answers through the tree. Answers at once from the current state when
   * it is known to be down (also while it restarts); waits only for a creation in progress.
   * Rejects with `not-found` only.
   */
  ping(id: number, call: CallOptions = {}): Promise<PingResult> {
    return this.requests.ping(id, call);
  }

  /**
   * Removes node `id` from the tree: stops its process, deletes its log, relinks the tree as a
   * search-tree deletion does (the in-order successor takes its place) and rebalances. Works on
   * an unavailable or failed node. Rejects `not-found` for an unknown id.
   */
  async remove(id: number): Promise<{ id: number }> {
    if (this.closed) throw nodeUnavailable(id, 'the gateway is stopping');
    await this.relinker.remove(id);
    return { id };
  }

  /**
   * Sets the system-wide heartbeat interval (0: off); nodes created later get it too. The
   * caller validated the range. With heartbeats off, only an exit makes a node unavailable.
   * Resolves once every link of the tree runs with it (see Relinker.reheartbeat).
   */
  async setHeartbeat(intervalMs: number): Promise<void> {
    // The same interval again changes nothing: no new endpoints, no relinking of every node.
    if (intervalMs === this.liveness.interval) return;
    this.liveness.setInterval(intervalMs);
    this.persist();
    this.reassess();
    await this.relinker.reheartbeat(intervalMs, (endpoint) => this.link.moveTo(endpoint, intervalMs));
  }

  /** Stops every computing process, closes the link and removes the runtime directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.liveness.stop();
    this.pending.failWhere(() => true);
    this.dispatch.close();
    await this.supervisor.stopAll();
    await this.agents?.close();
    await this.link.close();
    this.dir.remove();
    if (this.storage instanceof DataDir) this.storage.close();
  }

  private rootLinkHandlers(): RootLinkHandlers {
    const { shape, nodes, liveness, pending, supervisor } = this;
    return rootLinkHandlers({ shape, nodes, liveness, pending, supervisor, reassess: () => this.reassess() }, () => this.link);
  }

  /** Re-derives availability: events for each change, fail-fast for what became unreachable, waiters. */
  private reassess(): void {
    this.reassessor.reassess();
  }

  /** Saves the tree without the nodes still being created (not acknowledged yet; only such nodes hang below them). */
  private persist(): void {
    persistTree({ storage: this.storage, shape: this.shape, nodes: this.nodes, heartbeatMs: this.liveness.interval, hostName: this.hostName, log: this.log });
  }

  private emit(event: Omit<NodeEvent, 'time'>): void {
    this.log.info({ node: event.id, event: event.kind, reason: event.reason }, `node ${event.id} ${event.kind}`);
    this.events.emit({ ...event, time: new Date() });
  }
}

/** The IP of a host:port (`[v6]:port` too): where this host's tcp endpoints are bound. */
function clusterIp(listen: string): string {
  return listen.slice(0, listen.lastIndexOf(':'));
}
