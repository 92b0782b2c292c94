/**
 * @module The control core: keeps the search tree, and sends every command down it over
 * ZeroMQ, matching replies by correlation id. No gRPC here: the gateway translates.
 *
 * The parts, one concern each: `Topology` (the shape), `NodeHandle` (one node's life),
 * `Supervisor` (processes: start, place, exit, restart), `Liveness` (who is reachable and why
 * not), `Dispatch` (send a command now, or make it wait), `PendingRequests` (what is in flight).
 * This file wires them together and is the public face.
 *
 * Ordering: commands are written to the root link in the order they are called, each node is
 * single-threaded and every link is FIFO, so commands to one node run in call order. A command
 * for a node still being created, or being restarted, waits for it, and only for it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { decode, encode, type Message, ProtocolError, recordCorr } from '../computing/protocol/index.js';
import {
  type CallOptions,
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
import { DataDir, EphemeralStorage, type NodeStorage, type SavedTree } from './data-dir.js';
import { Dispatch } from './dispatch.js';
import { ArborError, nodeExists, nodeNotFound, nodeUnavailable, parentNotFound, parentUnavailable, wrongParent } from './errors.js';
import { type EventListener, EventHub, type NodeEvent } from './events.js';
import { Liveness } from './liveness.js';
import { type Logger, silentLogger } from './logger.js';
import type { NodeHandle } from './node-handle.js';
import { PendingRequests } from './pending-requests.js';
import { RootLink, type RootLinkHandlers } from './root-link.js';
import { RuntimeDir } from './runtime-dir.js';
import { Relinker } from './relinker.js';
import { Supervisor } from './supervisor.js';
import { Topology } from './topology.js';

/** How long a gateway started on a data dir waits for the processes of its previous run to end. */
const OLD_PROCESS_GRACE_MS = 3000;

export class Control {
  private readonly shape: Topology;
  private readonly nodes = new Map<number, NodeHandle>();
  private readonly pending = new PendingRequests();
  private readonly events = new EventHub();
  private readonly liveness: Liveness;
  private readonly dispatch: Dispatch;
  private readonly supervisor: Supervisor;
  private readonly relinker: Relinker;
  private link!: RootLink;
  private closed = false;
  private readonly requestTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly log: Logger;
  private readonly maxNodes: number;
  private settledWaiter: (() => void) | undefined;
  /** This host's name, and where creates without a host go. */
  readonly hostName: string;
  private readonly placement: 'local' | 'spread';

  private constructor(
    private readonly dir: RuntimeDir,
    private readonly storage: NodeStorage,
    saved: SavedTree | undefined,
    options: ControlOptions,
    private readonly agents?: Agents,
  ) {
    this.hostName = options.hostName ?? 'local';
    this.placement = options.placement ?? 'local';
    this.requestTimeoutMs = options.requestTimeoutMs ?? 2000;
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.log = options.logger ?? silentLogger;
    this.maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
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
      },
      {
        computingEntry: options.computingEntry ?? defaultComputingEntry(),
        computingExecArgv: options.computingExecArgv ?? [],
        startTimeoutMs: this.startTimeoutMs,
        restart: options.restart ?? 'always',
        hangRestartMs: options.hangRestartMs ?? 30_000,
        poolSize: options.poolSize ?? DEFAULT_POOL_SIZE,
        maxNodes: this.maxNodes,
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
      await control.settled(2 * control.startTimeoutMs);
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
    // A given parent is checked first, against where the id is (or would be) in the tree:
    // with 9 under 11, `create 9 8` says "belongs under 11" and `create 9 11` "already exists".
    const existing = this.shape.get(id);
    const placement = existing === undefined ? this.shape.placeFor(id) : existing.parent;
    if (parent !== undefined) {
      if (!this.shape.has(parent)) return Promise.reject(parentNotFound(parent));
      if (placement !== parent) return Promise.reject(wrongParent(id, placement, parent));
    }
    if (existing !== undefined) return Promise.reject(nodeExists(id));
    if (this.closed) return Promise.reject(nodeUnavailable(id, 'the gateway is stopping'));
    if (this.shape.size >= this.maxNodes) {
      return Promise.reject(
        new ArborError('exhausted', `node limit reached: the tree holds ${this.maxNodes} nodes (gateway option --max-nodes)`),
      );
    }
    const where = host ?? this.placeNew();
    if (where !== this.hostName) {
      const joined = this.agents?.hosts.get(where);
      if (joined === undefined) return Promise.reject(new ArborError('unavailable', `Host ${where} is unknown (hosts: ${this.hostNames().join(', ')})`));
      if (!joined.connected) return Promise.reject(new ArborError('unavailable', `Host ${where} is not connected`));
    }
    if (placement !== null) {
      const above = this.dispatch.reachability(placement);
      if (above instanceof ArborError) return Promise.reject(parentUnavailable(placement, above.reason));
    }
    return this.supervisor.create(id, this.deadline(this.startTimeoutMs, call), where);
  }

  /** This host and every joined one. */
  hostNames(): string[] {
    return [this.hostName, ...[...(this.agents?.hosts.keys() ?? [])]];
  }

  /** Where a create without a host goes: `local`, or `spread` (the connected host with the fewest nodes; ties: this one first). */
  private placeNew(): string {
    if (this.placement === 'local' || this.agents === undefined) return this.hostName;
    const count = new Map<string, number>([[this.hostName, 0]]);
    for (const host of this.agents.hosts.values()) if (host.connected) count.set(host.name, 0);
    for (const node of this.nodes.values()) if (count.has(node.host)) count.set(node.host, (count.get(node.host) ?? 0) + 1);
    let best = this.hostName;
    for (const [name, n] of count) if (n < (count.get(best) ?? 0)) best = name;
    return best;
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
    const removal = this.relinker.removalOf(id);
    if (removal !== undefined) return this.afterRemoval(removal, () => this.exec(id, name, value, call));
    const reply = this.dispatch.request(id, this.deadline(this.requestTimeoutMs, call), (corr) =>
      value === undefined ? encode({ kind: 'load', corr, node: id, name }) : encode({ kind: 'store', corr, node: id, name, value }),
    );
    return reply.then((msg) => {
      if (msg.kind !== 'value') throw nodeUnavailable(id);
      if (msg.added) this.noteKeyAdded(id);
      return { id, name, found: msg.found, value: msg.value };
    });
  }

  /**
   * Checks that node `id` answers through the tree. Answers at once from the current state when
   * it is known to be down (also while it restarts); waits only for a creation in progress.
   * Rejects with `not-found` only.
   */
  ping(id: number, call: CallOptions = {}): Promise<PingResult> {
    const removal = this.relinker.removalOf(id);
    if (removal !== undefined) return this.afterRemoval(removal, () => this.ping(id, call));
    const node = this.nodes.get(id);
    if (node === undefined) return Promise.reject(nodeNotFound(id));
    const deadline = this.deadline(this.requestTimeoutMs, call);
    if (node.state === 'starting') {
      return this.dispatch.whenReachable(id, deadline).then(
        () => this.ping(id, call),
        (error: unknown) => {
          if (error instanceof ArborError && error.kind === 'unavailable') return { id, available: false };
          throw error;
        },
      );
    }
    if (!node.available) return Promise.resolve({ id, available: false });
    return this.dispatch.request(id, deadline, (corr) => encode({ kind: 'ping', corr, node: id })).then(
      (msg) => ({ id, available: msg.kind === 'pong' }),
      (error: unknown) => {
        if (error instanceof ArborError && error.kind === 'unavailable') return { id, available: false };
        throw error;
      },
    );
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
    return {
      currentRoot: () => {
        const root = this.shape.root;
        const node = root === null ? undefined : this.nodes.get(root);
        return root === null ? null : { id: root, pid: node?.process != null ? node.pid : null };
      },
      connected: (root, connected, moving) => this.liveness.rootConnected(root, connected, moving),
      heard: (root) => this.liveness.heardRoot(root),
      record: this.fromRoot,
      undeliverable: (records) => {
        for (const rec of records) this.pending.fail(recordCorr(rec));
      },
    };
  }

  /** Runs `then` once a remove is over, however it ended. */
  private afterRemoval<T>(removal: Promise<void>, then: () => Promise<T>): Promise<T> {
    return removal.then(then, then);
  }

  /** Resolves once every node is available or down for good, or after `timeoutMs`. */
  private settled(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.settledWaiter = done;
      this.reassess();
    });
  }

  /** A store made a new name in node `id` (its reply said so). */
  private noteKeyAdded(id: number): void {
    const node = this.nodes.get(id);
    if (node !== undefined) node.keys++;
  }

  private deadline(defaultMs: number, call: CallOptions): number {
    const own = Date.now() + defaultMs;
    return call.deadline === undefined ? own : Math.min(own, call.deadline);
  }

  private readonly fromRoot = (rec: Buffer): void => {
    const msg: Message | ProtocolError = decode(rec);
    if (msg instanceof ProtocolError) return this.link.drop(msg.problem);
    switch (msg.kind) {
      case 'value':
      case 'pong':
        if (!this.pending.settle(msg)) this.link.drop(`late ${msg.kind}`);
        return;
      case 'hello':
        if (!this.supervisor.hello(msg.node, msg.corr, msg.keys)) this.link.drop('stale hello');
        return;
      case 'fail':
        this.pending.fail(msg.corr, nodeUnavailable(msg.node, 'a node on its path could not pass the request on'));
        return;
      case 'heartbeat':
        this.liveness.report(msg.down);
        this.reassess();
        return;
      default:
        this.link.drop(`unexpected ${msg.kind}`);
    }
  };

  /** Re-derives availability: events for each change, fail-fast for what became unreachable, waiters. */
  private reassess(): void {
    if (this.closed) return;
    let lost = false;
    for (const { node, down } of this.liveness.reassess()) {
      if (down !== undefined) {
        lost = true;
        this.emit({ kind: 'unavailable', id: node.id, reason: down.reason, cause: down.cause });
      } else {
        this.emit({ kind: 'available', id: node.id, reason: 'reachable again' });
      }
    }
    if (lost) this.pending.failWhere(this.unreachable);
    this.supervisor.afterReassess();
    this.supervisor.attachWaiting();
    this.dispatch.wake();
    // Nodes of other hosts come back when their agent joins again: the gateway does not wait for them to listen.
    if (this.settledWaiter !== undefined && [...this.nodes.values()].every((n) => n.available || n.state === 'failed' || n.state === 'exited' || n.host !== this.hostName)) {
      const done = this.settledWaiter;
      this.settledWaiter = undefined;
      done();
    }
  }

  /** A request target that cannot answer now, including a starting node whose parent was lost. */
  private readonly unreachable = (target: number): boolean => {
    const node = this.nodes.get(target);
    if (node === undefined) return false;
    if (node.state !== 'starting') return !node.available;
    const parentId = this.shape.get(target)?.parent;
    const parent = parentId === null || parentId === undefined ? undefined : this.nodes.get(parentId);
    return parent !== undefined && parent.state !== 'starting' && !parent.available;
  };

  /** Saves the tree without the nodes still being created (not acknowledged yet; only such nodes hang below them). */
  private persist(): void {
    const kept = (id: number | null): number | null => (id !== null && this.nodes.get(id)?.state !== 'starting' ? id : null);
    try {
      this.storage.saveTree({
        heartbeatMs: this.liveness.interval,
        root: kept(this.shape.root),
        nodes: this.shape
          .preorder()
          .filter((place) => kept(place.id) !== null)
          .map((place) => {
            const node = this.nodes.get(place.id);
            // A node on another host: its pid is that host's (not waited for here), and it restarts there.
            const remote = node !== undefined && node.host !== this.hostName;
            return { ...place, left: kept(place.left), right: kept(place.right), pid: remote ? null : (node?.pid ?? null), ...(remote && { host: node.host }) };
          }),
      });
    } catch (error) {
      this.log.error({ err: error }, 'cannot save the tree in the data dir');
    }
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

/**
 * The processes a killed gateway left end by themselves once they see their stdin close; wait
 * for them, so two processes never write one log. Stragglers are killed.
 */
async function waitForOldProcesses(saved: SavedTree, log: Logger): Promise<void> {
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
