/**
 * @module What follows each change of availability, in one place: an event for each node that
 * became available or unavailable, fail-fast for requests that can no longer be answered, the
 * supervisor's follow-ups (ending creates, hang clocks, re-attaching), held commands woken, and
 * the wait of a gateway restoring its data dir.
 */
import type { Dispatch } from './dispatch.js';
import type { NodeEvent } from './events.js';
import type { Liveness } from './liveness.js';
import type { NodeHandle } from './node-handle.js';
import type { PendingRequests } from './pending-requests.js';
import type { Supervisor } from './supervisor.js';
import type { Topology } from './topology.js';

/** What reassessing needs of the rest of the control. */
export interface ReassessorCore {
  shape: Topology;
  nodes: ReadonlyMap<number, NodeHandle>;
  liveness: Pick<Liveness, 'reassess'>;
  pending: Pick<PendingRequests, 'failWhere'>;
  supervisor: Pick<Supervisor, 'afterReassess' | 'attachWaiting'>;
  dispatch: Pick<Dispatch, 'wake'>;
  emit(event: Omit<NodeEvent, 'time'>): void;
  isClosed(): boolean;
}

export class Reassessor {
  private settledWaiter: (() => void) | undefined;

  constructor(
    private readonly core: ReassessorCore,
    /** This host's name: the start waits only for its nodes to listen. */
    private readonly hostName: string,
  ) {}

  /** Re-derives availability: events for each change, fail-fast for what became unreachable, waiters. */
  reassess(): void {
    if (this.core.isClosed()) return;
    let lost = false;
    for (const { node, down } of this.core.liveness.reassess()) {
      if (down !== undefined) {
        lost = true;
        this.core.emit({ kind: 'unavailable', id: node.id, reason: down.reason, cause: down.cause });
      } else {
        this.core.emit({ kind: 'available', id: node.id, reason: 'reachable again' });
      }
    }
    if (lost) this.core.pending.failWhere(this.unreachable);
    this.core.supervisor.afterReassess();
    this.core.supervisor.attachWaiting();
    this.core.dispatch.wake();
    // Nodes of other hosts come back when their agent joins again: the gateway does not wait for them to listen.
    if (this.settledWaiter !== undefined && [...this.core.nodes.values()].every((n) => n.available || n.state === 'failed' || n.state === 'exited' || n.host !== this.hostName)) {
      const done = this.settledWaiter;
      this.settledWaiter = undefined;
      done();
    }
  }

  /** Resolves once every node is available or down for good, or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void> {
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

  /** A request target that cannot answer now, including a starting node whose parent was lost. */
  private readonly unreachable = (target: number): boolean => {
    const node = this.core.nodes.get(target);
    if (node === undefined) return false;
    if (node.state !== 'starting') return !node.available;
    const parentId = this.core.shape.get(target)?.parent;
    const parent = parentId === null || parentId === undefined ? undefined : this.core.nodes.get(parentId);
    return parent !== undefined && parent.state !== 'starting' && !parent.available;
  };
}
