/**
 * @module A node's process exited without being asked to: noticing it, and restarting the node
 * in place from its log (also every node of a saved tree, when a gateway starts on its data dir).
 *
 * With `--restart always` it is replaced at once, then after a backoff (restart-policy.ts); its
 * children were never stopped, and are re-pointed at the new process (same pids, same data) once
 * it is attached. A node that keeps crashing is given up (FAILED). A node on another host waits
 * for that host's agent, since its data is there.
 */
import { monotonicMs } from '../computing/protocol/index.js';
import type { Exit } from '../lib/supervised-process.js';
import type { Agents, Host } from './agents.js';
import { type ComputingProcess, describeExit } from './computing-process.js';
import type { NodeEvent } from './events.js';
import type { Liveness } from './liveness.js';
import type { Logger } from './logger.js';
import { NodeHandle } from './node-handle.js';
import type { Topology } from './topology.js';

/** What restarting needs of the rest of the control. */
export interface RestartsCore {
  shape: Topology;
  nodes: Map<number, NodeHandle>;
  liveness: Pick<Liveness, 'unwatchRoot'>;
  log: Logger;
  emit(event: Omit<NodeEvent, 'time'>): void;
  reassess(): void;
  persist(): void;
  isClosed(): boolean;
}

export interface RestartsOptions {
  startTimeoutMs: number;
  restart: 'always' | 'never';
  /** This host's name. */
  hostName: string;
}

/** How a restart gets its node a process, and stops its hang clock. */
export interface RestartsProcesses {
  start(node: NodeHandle, fresh: boolean, deadline: number): Promise<void>;
  clearHang(id: number): void;
}

export class Restarts {
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  /** Restarts waiting for their host's agent to join again. */
  private readonly hostWaiters = new Map<string, (() => void)[]>();

  constructor(
    private readonly core: RestartsCore,
    private readonly options: RestartsOptions,
    private readonly processes: RestartsProcesses,
    /** Other hosts' agents (absent on a single host). */
    private readonly agents?: Pick<Agents, 'hosts'>,
  ) {}

  /** Starts every node of a saved tree from its log (a gateway started again on its data dir). */
  restore(hosts: ReadonlyMap<number, string> = new Map()): void {
    for (const place of this.core.shape.preorder()) {
      const node = new NodeHandle(place.id, 'restarting', this.core.log);
      node.host = hosts.get(place.id) ?? this.options.hostName;
      node.hostLost = node.host !== this.options.hostName;
      node.reason = 'restoring from the data dir';
      this.core.nodes.set(place.id, node);
      void this.restartLoop(node, true);
    }
  }

  /** The node's process exited. */
  exited(node: NodeHandle, proc: ComputingProcess, exit: Exit): void {
    if (node.process !== proc) return;
    node.process = null;
    node.lastExit = exit;
    this.processes.clearHang(node.id);
    // Only a serving process's exit is a crash; a start that fails is handled where it was started.
    if (node.state !== 'running' || this.core.isClosed()) return;
    const reason = node.hangKilled && node.reason !== null ? node.reason : (proc.fatal ?? describeExit(exit));
    node.hangKilled = false;
    node.reason = reason;
    node.attached = false;
    node.awaitedLinks.clear();
    for (const child of this.core.shape.children(node.id)) this.detach(child);
    if (this.core.shape.root === node.id) this.core.liveness.unwatchRoot(node.id);
    this.core.emit({
      kind: 'exited',
      id: node.id,
      reason,
      ...(exit.code !== null && { exitCode: exit.code }),
      ...(exit.signal !== null && { signal: exit.signal }),
    });
    if (this.options.restart === 'never') {
      node.transition('exited', reason);
      this.core.reassess();
      return;
    }
    node.transition('restarting', reason);
    this.core.reassess();
    void this.restartLoop(node, false);
  }

  /** A host joined, came back or was lost: restarts waiting for it go on. */
  hostChanged(host: Host): void {
    if (!host.connected) return;
    for (const resolve of this.hostWaiters.get(host.name)?.splice(0) ?? []) resolve();
  }

  /** Cancels the backoff pauses (the control is closing). */
  stop(): void {
    for (const timer of this.restartTimers) clearTimeout(timer);
  }

  /** Resolves once `name`'s agent is connected (at once for this host). */
  private hostConnected(name: string): Promise<void> {
    if (name === this.options.hostName || this.agents?.hosts.get(name)?.connected === true) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.hostWaiters.get(name) ?? [];
      waiters.push(resolve);
      this.hostWaiters.set(name, waiters);
    });
  }

  private async restartLoop(node: NodeHandle, restoring: boolean): Promise<void> {
    let first = restoring;
    for (;;) {
      if (node.ending || this.core.isClosed()) return;
      // Its data is on its host: it stays down until that host's agent is back (no restart counted meanwhile).
      if (node.host !== this.options.hostName && this.agents?.hosts.get(node.host)?.connected !== true) {
        node.reason = `host ${node.host} is not connected`;
        await this.hostConnected(node.host);
        if (node.ending || this.core.isClosed()) return;
      }
      if (!first) {
        const decision = node.policy.next(monotonicMs());
        if (!decision.restart) {
          node.reason = `given up: ${decision.reason}; last: ${node.reason ?? 'unknown'}`;
          node.transition('failed', node.reason);
          this.core.emit({ kind: 'failed', id: node.id, reason: node.reason });
          this.core.reassess();
          return;
        }
        if (decision.delayMs > 0) await this.pause(decision.delayMs);
        if (node.ending || this.core.isClosed()) return;
      }
      try {
        await this.processes.start(node, false, Date.now() + this.options.startTimeoutMs);
      } catch (error) {
        node.reason = error instanceof Error ? error.message : String(error);
        this.core.log.warn({ node: node.id, reason: node.reason }, 'restart attempt failed');
        first = false;
        continue;
      }
      if (node.ending || this.core.isClosed()) {
        // Removed (or the gateway is stopping) while this process started: it has no place.
        node.process?.kill();
        return;
      }
      if (!restoring) node.restarts++;
      node.transition('running', restoring ? `restored as pid ${node.pid}` : `restarted as pid ${node.pid}`);
      if (!restoring) this.core.emit({ kind: 'restarted', id: node.id, reason: `pid ${node.pid}`, pid: node.pid ?? undefined });
      this.core.persist();
      this.core.reassess();
      return;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.restartTimers.delete(timer);
        resolve();
      }, ms);
      this.restartTimers.add(timer);
    });
  }

  /** Its parent's process is gone: its uplink must be confirmed again. */
  private detach(id: number): void {
    const child = this.core.nodes.get(id);
    if (child === undefined) return;
    child.attached = false;
    child.awaitedLinks.clear();
  }
}
