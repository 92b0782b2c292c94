/**
 * @module The tree's links as the control writes them (it is the only author of tree links):
 * telling each node its place and matching the hellos that answer.
 *
 * A `link` message (parent endpoint, children, epoch) is answered by a hello through the tree,
 * which proves the new path; every link carries a new epoch, so a hello answers the links up to
 * its own. The heartbeat generations live here too: libzmq takes its heartbeat settings at bind,
 * so a new interval is a new generation of endpoints, and a node moves to it before its next link.
 */
import type { PeerSpec, ToNode } from '../computing/protocol/index.js';
import type { Agents } from './agents.js';
import type { LinkChange } from './balance.js';
import type { Dispatch } from './dispatch.js';
import { type ArborError, nodeUnavailable } from './errors.js';
import type { Liveness } from './liveness.js';
import type { Logger } from './logger.js';
import type { NodeHandle } from './node-handle.js';
import type { RuntimeDir } from './runtime-dir.js';
import type { Topology } from './topology.js';

/** What the links need of the rest of the control. */
export interface NodeLinksCore {
  shape: Topology;
  nodes: ReadonlyMap<number, NodeHandle>;
  liveness: Pick<Liveness, 'interval' | 'watchRoot'>;
  dispatch: Pick<Dispatch, 'isHeld'>;
  dir: RuntimeDir;
  log: Logger;
  reassess(): void;
}

/** Other hosts, as the links need them: where their nodes listen, and the control's tcp endpoint for a remote root. */
export interface NodeLinksCluster {
  agents: Pick<Agents, 'hosts'>;
  controlTcp: () => string | undefined;
}

/** A link whose hello has not come back by then is sent again. */
const LINK_RETRY_MS = 1000;

/**
 * A new heartbeat interval moves this many nodes at a time, each given MOVE_DEADLINE_MS for its
 * hello. Every move binds an endpoint, reconnects and says hello through the tree; a whole layer
 * at once (128 nodes in a 400-node tree) held both cores for seconds, so moves passed a 1 s
 * deadline and libzmq cut links whose first pings went unanswered: every node of the tree was
 * reported unavailable once (measured: 288-400 false events, the switch 8-10 s).
 */
const MOVES_IN_FLIGHT = 8;

/**
 * How long a node moved by a rotation or a new interval has for its hello before it counts as
 * detached (unavailable, and linked again once its path works); a rotation's link is sent again
 * every LINK_RETRY_MS meanwhile. Its commands are held, so waiting longer only delays them.
 * One try of 1 s was too little: under load a hello came later, and one was lost (a relink
 * while 200 piped creates rotated the tree: waited 5 s in vain, then a new link was answered in
 * 142 ms); each time the node and its subtree flapped unavailable and back.
 */
const MOVE_DEADLINE_MS = 5000;

/**
 * Runs `run` on every node of the tree from `root` down, each once its parent's run is over, at
 * most `limit` at once, in the order the parents finished (breadth first, without waiting for a
 * whole depth to finish). Depth first was tried: a node's second child waited for the whole
 * subtree of the first (5 s and more at 400 nodes). `run` must not reject.
 */
export async function topDown(root: number | null, children: (id: number) => readonly (number | null)[], limit: number, run: (id: number) => Promise<void>): Promise<void> {
  const ready: number[] = root === null ? [] : [root];
  let running = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (running < limit && ready.length > 0) {
        const id = ready.shift() as number;
        running++;
        void run(id).then(() => {
          running--;
          for (const child of children(id)) if (child !== null) ready.push(child);
          pump();
        });
      }
      if (running === 0 && ready.length === 0) resolve();
    };
    pump();
  });
}

export class NodeLinks {
  private epoch = 0;
  /** The link generation in force: the endpoints bound now, and the heartbeat settings they carry. */
  private inForce = 0;

  constructor(
    private readonly core: NodeLinksCore,
    private readonly hostName: string,
    private readonly cluster?: NodeLinksCluster,
  ) {}

  /** The link generation in force (a process started now binds its endpoint of it). */
  get generation(): number {
    return this.inForce;
  }

  /** Sends each live node of `changes` its new place and waits for their hellos (at most MOVE_DEADLINE_MS). */
  async relink(changes: readonly LinkChange[]): Promise<void> {
    const answers: Promise<void>[] = [];
    for (const change of changes) {
      const node = this.core.nodes.get(change.id);
      // A node still starting is placed from the shape when it attaches; one restarting, when it is back.
      if (node === undefined || node.state !== 'running' || node.process === null) continue;
      const parent = change.parent === null ? undefined : this.core.nodes.get(change.parent);
      const answer = this.placedWithRetries(node).then(
        () => undefined,
        () => {
          // No hello in time: it is re-attached (linked again) once its path works.
          node.attached = false;
        },
      );
      // Its hello can come only through a live parent: wait for it only then.
      if (parent === undefined || (parent.state === 'running' && parent.process !== null)) answers.push(answer);
    }
    await Promise.all(answers);
  }

  /** `placed`, sent again every LINK_RETRY_MS until a hello answers or MOVE_DEADLINE_MS has passed. */
  private async placedWithRetries(node: NodeHandle): Promise<void> {
    const until = Date.now() + MOVE_DEADLINE_MS;
    for (;;) {
      try {
        return await this.placed(node, Math.min(until, Date.now() + LINK_RETRY_MS), () => nodeUnavailable(node.id));
      } catch (error) {
        if (Date.now() >= until || node.state !== 'running' || node.process === null) throw error;
      }
    }
  }

  /** Links every running node that is not attached, once the node above it can pass its hello on. */
  attachWaiting(): void {
    const { shape, nodes } = this.core;
    for (const place of shape.preorder()) {
      const node = nodes.get(place.id);
      if (node === undefined || node.state !== 'running' || node.attached || node.attaching) continue;
      const parent = place.parent === null ? undefined : nodes.get(place.parent);
      // Not into a path that is being relinked: the relink places it.
      if ((parent !== undefined && !parent.available) || this.core.dispatch.isHeld(place.id)) continue;
      node.attaching = true;
      // Its parent learns its (new) process first; a hello that beats that is held there.
      if (parent !== undefined && parent.state === 'running') this.tell(parent);
      void this.placed(node, Date.now() + LINK_RETRY_MS, () => nodeUnavailable(node.id)).then(
        () => {
          node.attaching = false;
          node.attached = true;
          if (place.parent === null) this.core.liveness.watchRoot(node.id);
          this.core.reassess();
        },
        () => {
          // No hello in time (its parent died meanwhile, or it is frozen): try again on the next change.
          node.attaching = false;
          this.core.reassess();
        },
      );
    }
  }

  /** A hello came up the tree: the node answered link `epoch`, holding `keys` names. */
  hello(id: number, epoch: number, keys: number): boolean {
    const node = this.core.nodes.get(id);
    if (node === undefined) return false;
    let answered = false;
    for (const [sent, resolve] of node.awaitedLinks) {
      if (sent > epoch) continue;
      node.awaitedLinks.delete(sent);
      resolve();
      answered = true;
    }
    // A stale hello (an older link's) may predate stores already counted: only a current one resets the count.
    if (answered) node.keys = keys;
    return answered;
  }

  /** A child as its parent must know it: the node and its current process (none: null pid). */
  private specOf(id: number | null): PeerSpec | null {
    if (id === null) return null;
    const node = this.core.nodes.get(id);
    return { id, pid: node?.process != null ? node.pid : null };
  }

  /** Sends `node` its place, without waiting for its answer. */
  tell(node: NodeHandle): void {
    this.placed(node, Date.now() + LINK_RETRY_MS, () => nodeUnavailable(node.id)).catch(() => undefined);
  }

  /**
   * Gives the whole tree a new heartbeat interval: a new generation of endpoints, bound with the
   * new ZMTP settings (libzmq takes them at bind). The control's endpoint moves first (`moveControl`),
   * then the tree top-down (see topDown), each node after its parent: it binds its new endpoint, moves its uplink
   * to its parent's new one and says hello through parents that are done already, so no hello is
   * cut off. The caller holds every command meanwhile; the interval in force is already the new one,
   * so a process started meanwhile is claimed with it.
   */
  async reheartbeat(intervalMs: number, moveControl: (endpoint: string) => Promise<void>): Promise<void> {
    const generation = ++this.inForce;
    await moveControl(this.core.dir.controlEndpoint(generation));
    const { shape } = this.core;
    await topDown(
      shape.root,
      (id) => [shape.get(id)?.left ?? null, shape.get(id)?.right ?? null],
      MOVES_IN_FLIGHT,
      async (id) => {
        const node = this.core.nodes.get(id);
        if (node === undefined || node.state !== 'running' || node.process === null || node.generation === generation) return;
        await this.ask(node, Date.now() + MOVE_DEADLINE_MS, () => nodeUnavailable(node.id), (epoch) => this.intervalMessage(node, epoch, intervalMs)).catch(() => {
          node.attached = false;
        });
      },
    );
  }

  /** The current generation's `interval` message for `node`; from now on it listens there. */
  private intervalMessage(node: NodeHandle, epoch: number, intervalMs: number): ToNode {
    const host = node.host === this.hostName ? undefined : this.cluster?.agents.hosts.get(node.host);
    // On another host the new endpoint is a new tcp port: the node says which (`bound`) before its hello.
    const listen = host === undefined ? this.core.dir.nodeEndpoint(node.id, this.inForce) : `tcp://${host.advertise}:*`;
    const message: ToNode = { t: 'interval', intervalMs, epoch, listen, parent: this.parentEndpoint(node.id) };
    if (host === undefined) node.endpoint = listen;
    node.generation = this.inForce;
    return message;
  }

  /** Where `id`'s uplink connects: its parent's endpoint, or the control's. */
  private parentEndpoint(id: number): string {
    const parent = this.core.shape.get(id)?.parent ?? null;
    const host = this.core.nodes.get(id)?.host ?? this.hostName;
    if (parent === null) {
      // The root on another host reaches the control over tcp with CURVE.
      const tcp = host === this.hostName ? undefined : this.cluster?.controlTcp();
      return tcp ?? this.core.dir.controlEndpoint(this.inForce);
    }
    const above = this.core.nodes.get(parent);
    // A parent on another host: its tcp endpoint (CURVE); on the same host: its own endpoint (ipc here, tcp on agent hosts).
    if (above !== undefined && above.host !== host && above.tcpEndpoint !== null) return above.tcpEndpoint;
    return above?.endpoint ?? this.core.dir.nodeEndpoint(parent, this.inForce);
  }

  /** Sends `node` its place and resolves when its hello comes back (or rejects with `onTimeout()` at `deadline`). */
  placed(node: NodeHandle, deadline: number, onTimeout: () => ArborError): Promise<void> {
    const place = this.core.shape.get(node.id);
    if (place === undefined) return Promise.reject(onTimeout());
    // Started before the tree moved to a new heartbeat generation: it moves first (its link follows in order).
    if (node.generation !== this.inForce && node.process !== null) {
      const epoch = ++this.epoch;
      // Its hello is expected (not a stale one); the link's hello answers it too.
      node.awaitedLinks.set(epoch, () => undefined);
      node.process.send(this.intervalMessage(node, epoch, this.core.liveness.interval));
    }
    return this.ask(node, deadline, onTimeout, (epoch) => {
      this.core.log.debug({ node: node.id, epoch, parent: place.parent, left: place.left, right: place.right }, 'link sent');
      return {
        t: 'link',
        epoch,
        parent: this.parentEndpoint(node.id),
        left: this.specOf(place.left),
        right: this.specOf(place.right),
      };
    });
  }

  /** Sends `node` a message that it answers with a hello through the tree carrying its epoch. */
  private ask(node: NodeHandle, deadline: number, onTimeout: () => ArborError, message: (epoch: number) => ToNode): Promise<void> {
    const proc = node.process;
    if (proc === null) return Promise.reject(onTimeout());
    const epoch = ++this.epoch;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          node.awaitedLinks.delete(epoch);
          reject(onTimeout());
        },
        Math.max(0, deadline - Date.now()),
      );
      node.awaitedLinks.set(epoch, () => {
        clearTimeout(timer);
        resolve();
      });
      proc.send(message(epoch));
    });
  }
}
