/**
 * @module The commands that go down the tree to one node and come back with its answer: `exec`
 * (store or load a name) and `ping`. A command for a node being removed waits for the remove,
 * as if typed after its answer.
 */
import { encode } from '../computing/protocol/index.js';
import { type CallOptions, callDeadline, type ExecResult, type PingResult } from './api.js';
import type { Dispatch } from './dispatch.js';
import { ArborError, nodeNotFound, nodeUnavailable } from './errors.js';
import type { NodeHandle } from './node-handle.js';
import type { Relinker } from './relinker.js';

/** What the commands need of the rest of the control. */
export interface NodeRequestsCore {
  nodes: ReadonlyMap<number, NodeHandle>;
  dispatch: Pick<Dispatch, 'request' | 'whenReachable'>;
  relinker: Pick<Relinker, 'removalOf'>;
}

export class NodeRequests {
  constructor(
    private readonly core: NodeRequestsCore,
    /** How long a command may wait for its reply. */
    private readonly requestTimeoutMs: number,
  ) {}

  /**
   * Stores `value` under `name` in node `id` (or loads `name` when `value` is undefined).
   * Rejects with `not-found` or `unavailable`.
   */
  exec(id: number, name: string, value: bigint | undefined, call: CallOptions = {}): Promise<ExecResult> {
    const removal = this.core.relinker.removalOf(id);
    if (removal !== undefined) return this.afterRemoval(removal, () => this.exec(id, name, value, call));
    const reply = this.core.dispatch.request(id, callDeadline(this.requestTimeoutMs, call), (corr) =>
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
    const removal = this.core.relinker.removalOf(id);
    if (removal !== undefined) return this.afterRemoval(removal, () => this.ping(id, call));
    const node = this.core.nodes.get(id);
    if (node === undefined) return Promise.reject(nodeNotFound(id));
    const deadline = callDeadline(this.requestTimeoutMs, call);
    if (node.state === 'starting') {
      return this.core.dispatch.whenReachable(id, deadline).then(
        () => this.ping(id, call),
        (error: unknown) => {
          if (error instanceof ArborError && error.kind === 'unavailable') return { id, available: false };
          throw error;
        },
      );
    }
    if (!node.available) return Promise.resolve({ id, available: false });
    return this.core.dispatch.request(id, deadline, (corr) => encode({ kind: 'ping', corr, node: id })).then(
      (msg) => ({ id, available: msg.kind === 'pong' }),
      (error: unknown) => {
        if (error instanceof ArborError && error.kind === 'unavailable') return { id, available: false };
        throw error;
      },
    );
  }

  /** Runs `then` once a remove is over, however it ended. */
  private afterRemoval<T>(removal: Promise<void>, then: () => Promise<T>): Promise<T> {
    return removal.then(then, then);
  }

  /** A store made a new name in node `id` (its reply said so). */
  private noteKeyAdded(id: number): void {
    const node = this.core.nodes.get(id);
    if (node !== undefined) node.keys++;
  }
}
