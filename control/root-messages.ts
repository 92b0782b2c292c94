/**
 * @module What comes up the tree to the control, and what it means: replies settle their
 * requests, hellos answer links, `fail` ends a request a node could not pass on, and heartbeat
 * reports say who went silent. Also what the root link must know of the tree (its root now).
 */
import { BeatFlag, decode, type Message, ProtocolError, recordCorr } from '../computing/protocol/index.js';
import { nodeUnavailable } from './errors.js';
import type { Liveness } from './liveness.js';
import type { NodeHandle } from './node-handle.js';
import type { PendingRequests } from './pending-requests.js';
import type { RootLink, RootLinkHandlers } from './root-link.js';
import type { Supervisor } from './supervisor.js';
import type { Topology } from './topology.js';

/** What the root link's handlers need of the rest of the control. */
export interface RootMessagesCore {
  shape: Topology;
  nodes: ReadonlyMap<number, NodeHandle>;
  liveness: Pick<Liveness, 'rootConnected' | 'heardRoot' | 'rootRests' | 'report'>;
  pending: Pick<PendingRequests, 'settle' | 'fail'>;
  supervisor: Pick<Supervisor, 'hello'>;
  /** Re-derives availability after any change (events, fail-fast, waiters). */
  reassess(): void;
}

/** The handlers of the root link; `link` is the link they serve (it counts what they drop). */
export function rootLinkHandlers(core: RootMessagesCore, link: () => RootLink): RootLinkHandlers {
  const fromRoot = (rec: Buffer): void => {
    const msg: Message | ProtocolError = decode(rec);
    if (msg instanceof ProtocolError) return link().drop(msg.problem);
    switch (msg.kind) {
      case 'value':
      case 'pong':
        if (!core.pending.settle(msg)) link().drop(`late ${msg.kind}`);
        return;
      case 'hello':
        if (!core.supervisor.hello(msg.node, msg.corr, msg.keys)) link().drop('stale hello');
        return;
      case 'fail':
        core.pending.fail(msg.corr, nodeUnavailable(msg.node, 'a node on its path could not pass the request on'));
        return;
      case 'heartbeat':
        if ((msg.corr & BeatFlag.Quiet) !== 0) core.liveness.rootRests(msg.node);
        core.liveness.report(msg.down);
        core.reassess();
        return;
      default:
        link().drop(`unexpected ${msg.kind}`);
    }
  };
  return {
    currentRoot: () => {
      const root = core.shape.root;
      const node = root === null ? undefined : core.nodes.get(root);
      return root === null ? null : { id: root, pid: node?.process != null ? node.pid : null };
    },
    connected: (root, connected, moving) => core.liveness.rootConnected(root, connected, moving),
    heard: (root) => core.liveness.heardRoot(root),
    record: fromRoot,
    undeliverable: (records) => {
      for (const rec of records) core.pending.fail(recordCorr(rec));
    },
  };
}
