/**
 * @module Whether a create may go ahead, checked against the tree as it is now before anything
 * starts, and which host it goes to.
 *
 * The checks come in a fixed order, so each refusal names the first thing wrong: the parent
 * given, an id already there, a gateway stopping, the node limit, the host, the parent's
 * reachability.
 */
import type { Agents } from './agents.js';
import type { Dispatch } from './dispatch.js';
import { ArborError, nodeExists, nodeUnavailable, parentNotFound, parentUnavailable, wrongParent } from './errors.js';
import type { NodeHandle } from './node-handle.js';
import type { Topology } from './topology.js';

/** What the checks read of the rest of the control. */
export interface CreateAdmissionCore {
  shape: Topology;
  nodes: ReadonlyMap<number, NodeHandle>;
  dispatch: Pick<Dispatch, 'reachability'>;
  isClosed(): boolean;
}

export interface CreateAdmissionOptions {
  /** The most nodes the tree may hold. */
  maxNodes: number;
  /** This host's name, and where creates without a host go. */
  hostName: string;
  placement: 'local' | 'spread';
}

export class CreateAdmission {
  constructor(
    private readonly core: CreateAdmissionCore,
    private readonly options: CreateAdmissionOptions,
    /** Other hosts' agents (absent on a single host). */
    private readonly agents?: Pick<Agents, 'hosts'>,
  ) {}

  /**
   * Checks a create of `id` (under `parent` and on `host`, when given): the host it goes to, or
   * the error it is refused with (`exists`, `not-found`, `wrong-parent`, `exhausted`, `unavailable`).
   */
  check(id: number, parent: number | undefined, host: string | undefined): string | ArborError {
    const { shape } = this.core;
    // A given parent is checked first, against where the id is (or would be) in the tree:
    // with 9 under 11, `create 9 8` says "belongs under 11" and `create 9 11` "already exists".
    const existing = shape.get(id);
    const placement = existing === undefined ? shape.placeFor(id) : existing.parent;
    if (parent !== undefined) {
      if (!shape.has(parent)) return parentNotFound(parent);
      if (placement !== parent) return wrongParent(id, placement, parent);
    }
    if (existing !== undefined) return nodeExists(id);
    if (this.core.isClosed()) return nodeUnavailable(id, 'the gateway is stopping');
    if (shape.size >= this.options.maxNodes) {
      return new ArborError('exhausted', `node limit reached: the tree holds ${this.options.maxNodes} nodes (gateway option --max-nodes)`);
    }
    const where = host ?? this.placeNew();
    if (where !== this.options.hostName) {
      const joined = this.agents?.hosts.get(where);
      if (joined === undefined) return new ArborError('unavailable', `Host ${where} is unknown (hosts: ${this.hostNames().join(', ')})`);
      if (!joined.connected) return new ArborError('unavailable', `Host ${where} is not connected`);
    }
    if (placement !== null) {
      const above = this.core.dispatch.reachability(placement);
      if (above instanceof ArborError) return parentUnavailable(placement, above.reason);
    }
    return where;
  }

  /** This host and every joined one. */
  hostNames(): string[] {
    return [this.options.hostName, ...[...(this.agents?.hosts.keys() ?? [])]];
  }

  /** Where a create without a host goes: `local`, or `spread` (the connected host with the fewest nodes; ties: this one first). */
  private placeNew(): string {
    const { hostName } = this.options;
    if (this.options.placement === 'local' || this.agents === undefined) return hostName;
    const count = new Map<string, number>([[hostName, 0]]);
    for (const host of this.agents.hosts.values()) if (host.connected) count.set(host.name, 0);
    for (const node of this.core.nodes.values()) if (count.has(node.host)) count.set(node.host, (count.get(node.host) ?? 0) + 1);
    let best = hostName;
    for (const [name, n] of count) if (n < (count.get(best) ?? 0)) best = name;
    return best;
  }
}
