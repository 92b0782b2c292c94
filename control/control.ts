/**
 * @module The control core: keeps the search tree, spawns and supervises the computing
 * processes, and sends every command down the tree over ZeroMQ, matching replies by
 * correlation id. No gRPC here: the gateway translates.
 *
 * Ordering: commands are written to the root link in the order they are called, each node is
 * single-threaded and every link is FIFO, so commands to one node run in call order. A command
 * for a node still being created waits for that creation, and only for it.
 *
 * Availability (see availability.ts): the control is the OS parent of every computing
 * process, so an exit is known at once; silence is detected by heartbeats aggregated up the
 * tree (the root's report lists the topmost unreachable nodes). Requests in flight to a node
 * that becomes unavailable fail at once, and later ones fail fast.
 */
import type { Router } from 'zeromq';
import {
  decode,
  downlinkSocket,
  encode,
  LivenessMonitor,
  type Message,
  MISSED_INTERVALS,
  ProtocolError,
  recordCorr,
} from '../computing/protocol/index.js';
import { type Down, reassess } from './availability.js';
import {
  type CallOptions,
  type ControlOptions,
  type Created,
  DEFAULT_MAX_NODES,
  type ExecResult,
  type PingResult,
  type TopologySnapshot,
} from './api.js';
import { ComputingProcess, defaultComputingEntry, describeExit, type Exit } from './computing-process.js';
import { type Deferred, deferred } from './deferred.js';
import {
  ArborError,
  nodeExists,
  nodeNotFound,
  nodeUnavailable,
  parentNotFound,
  parentUnavailable,
  wrongParent,
} from './errors.js';
import { type EventListener, EventHub, type NodeEvent } from './events.js';
import { type Logger, silentLogger } from './logger.js';
import { PendingRequests } from './pending-requests.js';
import { RootLink } from './root-link.js';
import { RuntimeDir } from './runtime-dir.js';
import { Topology, type TreeNode } from './topology.js';

export class Control {
  private readonly tree = new Topology();
  private readonly pending = new PendingRequests();
  private readonly processes = new Map<number, ComputingProcess>();
  /** Creations in progress: commands for these ids wait for them. */
  private readonly starting = new Map<number, Deferred>();
  private readonly events = new EventHub();
  /** Watches the root; below it, nodes watch their children and report up. */
  private readonly rootLiveness = new LivenessMonitor<number>(() => this.reassess());
  /** The topmost unreachable nodes, as the root last reported them. */
  private reportedDown = new Set<number>();
  private heartbeatMs = 0;
  private readonly link: RootLink;
  private closed = false;
  private readonly requestTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly computingEntry: string;
  private readonly computingExecArgv: readonly string[];
  private readonly log: Logger;
  private readonly maxNodes: number;

  private constructor(
    private readonly dir: RuntimeDir,
    router: Router,
    options: ControlOptions,
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 2000;
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.computingEntry = options.computingEntry ?? defaultComputingEntry();
    this.computingExecArgv = options.computingExecArgv ?? [];
    this.log = options.logger ?? silentLogger;
    this.maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
    this.link = new RootLink(
      router,
      {
        currentRoot: () => this.tree.root,
        heard: (root) => this.rootLiveness.heard(root),
        record: this.fromRoot,
        undeliverable: (records) => {
          for (const rec of records) this.pending.fail(recordCorr(rec));
        },
      },
      this.log,
    );
  }

  /** Creates the runtime directory and binds the link to the root. */
  static async start(options: ControlOptions = {}): Promise<Control> {
    const dir = new RuntimeDir(options.runtimeParent);
    const router = downlinkSocket();
    try {
      await router.bind(dir.controlEndpoint);
    } catch (error) {
      router.close();
      dir.remove();
      throw error;
    }
    return new Control(dir, router, options);
  }

  /** Requests in flight inside the tree (for tests and metrics). */
  get inFlight(): number {
    return this.pending.size;
  }

  /** The heartbeat interval in force (0: off). */
  get heartbeatInterval(): number {
    return this.heartbeatMs;
  }

  /** A copy of the tree as it is now. */
  topology(): TopologySnapshot {
    const nodes = this.tree.preorder().map((n) => ({
      id: n.id,
      parent: n.parent,
      left: n.left,
      right: n.right,
      pid: n.pid,
      depth: this.tree.depth(n.id),
      available: n.available,
      state: n.state,
    }));
    return { nodes, root: this.tree.root, heartbeatMs: this.heartbeatMs };
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
  async create(id: number, parent: number | undefined, call: CallOptions = {}): Promise<Created> {
    // A given parent is checked first, against where the id is (or would be) in the tree:
    // with 9 under 11, `create 9 8` says "belongs under 11" and `create 9 11` "already exists".
    const existing = this.tree.get(id);
    const placement = existing === undefined ? this.tree.placeFor(id) : existing.parent;
    if (parent !== undefined) {
      if (this.tree.get(parent) === undefined) throw parentNotFound(parent);
      if (placement !== parent) throw wrongParent(id, placement, parent);
    }
    if (existing !== undefined) throw nodeExists(id);
    if (this.tree.size >= this.maxNodes) {
      throw new ArborError('exhausted', `node limit reached: the tree holds ${this.maxNodes} nodes (gateway option --max-nodes)`);
    }
    if (placement !== null) {
      const above = this.tree.get(placement) as TreeNode;
      if (above.state !== 'starting' && !above.available) throw parentUnavailable(placement, this.whyDown(placement));
    }
    const node = this.tree.insert(id);
    const started = deferred();
    this.starting.set(id, started);
    let proc: ComputingProcess | undefined;
    try {
      if (placement !== null) await this.whenStarted(placement);
      const startBudget = this.budget(this.startTimeoutMs, call);
      const hello = this.pending.add(id, startBudget, () => {
        const reason = (placement === null ? undefined : this.whyDown(placement)) ?? `the new process did not connect within ${startBudget} ms`;
        return placement === null ? nodeUnavailable(id, reason) : parentUnavailable(placement, reason);
      });
      proc = ComputingProcess.spawn(
        this.computingEntry,
        {
          id,
          parentEndpoint: placement === null ? this.dir.controlEndpoint : this.dir.nodeEndpoint(placement),
          listenEndpoint: this.dir.nodeEndpoint(id),
          corr: hello.corr,
        },
        this.computingExecArgv,
        (line) => this.log.warn({ node: id, stderr: line }, 'computing process wrote to stderr'),
      );
      node.pid = proc.pid;
      void proc.exited.then((exit) =>
        this.pending.fail(hello.corr, new ArborError('unavailable', `Node ${id} could not start: ${describeExit(exit)}`)),
      );
      await hello.reply;
      this.processes.set(id, proc);
      node.state = 'running';
      node.available = true;
      this.starting.delete(id);
      started.resolve();
      if (placement === null) this.adoptRoot(id);
      void proc.exited.then((exit) => this.onExit(id, exit));
      this.emit({ kind: 'created', id, reason: `pid ${proc.pid}, under ${placement ?? 'control'}` });
      return { id, pid: proc.pid, parent: placement };
    } catch (error) {
      proc?.kill();
      // Only creations waiting on this one can hang below it; they fail too.
      if (this.tree.get(id) === node) this.tree.removeSubtree(id);
      this.starting.delete(id);
      started.reject(error);
      throw error;
    }
  }

  /**
   * Stores `value` under `name` in node `id` (or loads `name` when `value` is undefined).
   * Rejects with `not-found` or `unavailable`.
   */
  exec(id: number, name: string, value: bigint | undefined, call: CallOptions = {}): Promise<ExecResult> {
    const node = this.tree.get(id);
    if (node === undefined) return Promise.reject(nodeNotFound(id));
    if (node.state === 'starting') return this.afterStart(id).then(() => this.exec(id, name, value, call));
    if (!node.available) return Promise.reject(nodeUnavailable(id, this.whyDown(id)));
    const reply = this.request(id, call, (corr) =>
      value === undefined ? encode({ kind: 'load', corr, node: id, name }) : encode({ kind: 'store', corr, node: id, name, value }),
    );
    return reply.then((msg) => {
      if (msg.kind !== 'value') throw nodeUnavailable(id);
      return { id, name, found: msg.found, value: msg.value };
    });
  }

  /** Checks that node `id` answers through the tree. Rejects with `not-found` only. */
  ping(id: number, call: CallOptions = {}): Promise<PingResult> {
    const node = this.tree.get(id);
    if (node === undefined) return Promise.reject(nodeNotFound(id));
    if (node.state === 'starting') return this.afterStart(id).then(() => this.ping(id, call));
    if (!node.available) return Promise.resolve({ id, available: false });
    return this.request(id, call, (corr) => encode({ kind: 'ping', corr, node: id })).then(
      (msg) => ({ id, available: msg.kind === 'pong' }),
      (error: unknown) => {
        if (error instanceof ArborError && error.kind === 'unavailable') return { id, available: false };
        throw error;
      },
    );
  }

  /**
   * Sets the system-wide heartbeat interval (0: off); nodes created later get it too. The
   * caller validated the range. With heartbeats off, only an exit makes a node unavailable.
   */
  setHeartbeat(intervalMs: number): void {
    this.heartbeatMs = intervalMs;
    if (intervalMs === 0) this.reportedDown.clear();
    this.rootLiveness.setInterval(intervalMs);
    const root = this.tree.root;
    if (root !== null && this.tree.get(root)?.state === 'running') {
      this.link.send(root, encode({ kind: 'interval', corr: 0, node: root, intervalMs }));
    }
    this.reassess();
  }

  /** Stops every computing process, closes the link and removes the runtime directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rootLiveness.stop();
    this.pending.failWhere(() => true);
    await Promise.all([...this.processes.values()].map((proc) => proc.stop()));
    for (const start of this.starting.values()) start.reject(new Error('control closed'));
    await this.link.close();
    this.dir.remove();
  }

  /** Waits for a creation in progress; a failed creation means the node does not exist. */
  private afterStart(id: number): Promise<void> {
    const start = this.starting.get(id);
    if (start === undefined) return Promise.resolve();
    return start.promise.catch(() => {
      throw nodeNotFound(id);
    });
  }

  /** Waits until parent `id` has started; rejects `unavailable` when it failed or is unreachable. */
  private async whenStarted(id: number): Promise<void> {
    try {
      await this.starting.get(id)?.promise;
    } catch (error) {
      throw parentUnavailable(id, error instanceof Error ? `its creation failed: ${error.message}` : undefined);
    }
    if (this.tree.get(id)?.available !== true) throw parentUnavailable(id, this.whyDown(id));
  }

  private request(target: number, call: CallOptions, build: (corr: number) => Buffer): Promise<Message> {
    const root = this.tree.root;
    if (root === null || this.closed) return Promise.reject(nodeUnavailable(target));
    const budget = this.budget(this.requestTimeoutMs, call);
    const { corr, reply } = this.pending.add(target, budget, () =>
      nodeUnavailable(target, this.whyDown(target) ?? `no reply within ${budget} ms`),
    );
    this.link.send(root, build(corr));
    return reply;
  }

  private budget(defaultMs: number, call: CallOptions): number {
    if (call.deadline === undefined) return defaultMs;
    return Math.max(0, Math.min(defaultMs, call.deadline - Date.now()));
  }

  /** The root is connected: watch it and tell it the interval (it passes it down). */
  private adoptRoot(root: number): void {
    this.rootLiveness.watch(root);
    this.link.send(root, encode({ kind: 'interval', corr: 0, node: root, intervalMs: this.heartbeatMs }));
  }

  private readonly fromRoot = (rec: Buffer): void => {
    const msg = decode(rec);
    if (msg instanceof ProtocolError) return this.link.drop(msg.problem);
    switch (msg.kind) {
      case 'value':
      case 'pong':
      case 'hello':
        if (!this.pending.settle(msg)) this.link.drop(`late ${msg.kind}`);
        return;
      case 'fail':
        this.pending.fail(msg.corr, nodeUnavailable(msg.node, 'a node on its path could not pass the request on'));
        return;
      case 'heartbeat':
        this.reportedDown = new Set(msg.down);
        this.reassess();
        return;
      default:
        this.link.drop(`unexpected ${msg.kind}`);
    }
  };

  /** A computing process exited: everything in flight to it or below it fails at once. */
  private onExit(id: number, exit: Exit): void {
    this.processes.delete(id);
    const node = this.tree.get(id);
    if (node === undefined || this.closed) return;
    node.state = 'exited';
    node.exit = exit;
    this.emit({
      kind: 'exited',
      id,
      reason: describeExit(exit),
      ...(exit.code !== null && { exitCode: exit.code }),
      ...(exit.signal !== null && { signal: exit.signal }),
    });
    if (id === this.tree.root) this.rootLiveness.unwatch(id);
    this.reassess();
  }

  /** Why a node is down by itself (not because of an ancestor), or undefined. */
  private readonly ownDown = (node: TreeNode): Down | undefined => {
    if (node.state === 'exited') return { cause: 'exit', reason: node.exit ? describeExit(node.exit) : 'its process exited' };
    const silent = node.parent === null ? !this.rootLiveness.isUp(node.id) : this.reportedDown.has(node.id);
    return silent ? { cause: 'silence', reason: `not heard from for ${MISSED_INTERVALS} x ${this.heartbeatMs} ms` } : undefined;
  };

  private reassess(): void {
    if (this.closed) return;
    const flips = reassess(this.tree, this.ownDown);
    const lost = new Set<number>();
    for (const { node, down } of flips) {
      if (down !== undefined) {
        lost.add(node.id);
        this.emit({ kind: 'unavailable', id: node.id, reason: down.reason, cause: down.cause });
      } else {
        this.emit({ kind: 'available', id: node.id, reason: 'reachable again' });
      }
    }
    if (lost.size > 0) this.pending.failWhere(this.unreachable);
  }

  /**
   * Why node `id` cannot be reached now, naming the node at the top of the outage (e.g. the
   * root that does not answer); undefined when it is available.
   */
  private whyDown(id: number): string | undefined {
    let node = this.tree.get(id);
    let top: { node: TreeNode; down: Down } | undefined;
    while (node !== undefined) {
      const down = node.state === 'starting' ? undefined : this.ownDown(node);
      if (down !== undefined) top = { node, down };
      node = node.parent === null ? undefined : this.tree.get(node.parent);
    }
    if (top === undefined) return undefined;
    if (top.node.id === id) return top.down.reason;
    return `node ${top.node.id} above it${top.node.parent === null ? ' (the root)' : ''} cannot be reached: ${top.down.reason}`;
  }

  /** A request target that cannot answer now, including a starting node whose parent was lost. */
  private readonly unreachable = (target: number): boolean => {
    const node = this.tree.get(target);
    if (node === undefined) return false;
    if (node.state !== 'starting') return !node.available;
    const parent = node.parent === null ? undefined : this.tree.get(node.parent);
    return parent !== undefined && parent.state !== 'starting' && !parent.available;
  };

  private emit(event: Omit<NodeEvent, 'time'>): void {
    this.log.info({ node: event.id, event: event.kind, reason: event.reason }, `node ${event.id} ${event.kind}`);
    this.events.emit({ ...event, time: new Date() });
  }
}
