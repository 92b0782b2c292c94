/**
 * @module The computing process: one per tree node, started by the control (its OS parent) or
 * by an agent, and told what to be on its control channel (stdin/stdout, one JSON object per
 * line; see link/control-channel.ts): first a `claim` (id, endpoint, log, liveness), then
 * `link`s and `interval`s. Its own messages are `waiting`, `ready`, beats, and `fatal`.
 *
 * Kept lean on purpose (it starts often and many run at once): zeromq, node:fs and the shared
 * link runtime only; no gRPC, no logger.
 *
 * Exit codes: 0 when stopped (SIGTERM, or the control channel closed), 3 when it cannot serve
 * (corrupt log, a log write it cannot step back from, endpoint refused), after a `fatal` message
 * saying why. A full disk is not fatal: the node serves on read-only (node.ts).
 */
import { renameSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { controlLine, curveServerOptions, downlinkSocket, setForNextConnections, type FromNode, parseToNode, startZapHandler, type ToNode, uplinkSocket } from '../link/index.js';
import { armFailpoints } from './failpoints.js';
import { Follower } from './follower.js';
import { ComputingNode } from './node.js';
import { NO_LOG, type StoreLog, WriteAheadLog } from './wal.js';

const EXIT_FATAL = 3;

/**
 * The process's phase, changed only by `enter`: a spare waits for its claim; a claimed process
 * opens its log and binds, then serves until it is told to stop (or its channel closes).
 */
type Phase =
  | { t: 'waiting' }
  | { t: 'claiming'; id: number }
  | { t: 'serving'; node: ComputingNode; running: Promise<void> }
  /** --replicas 2: a node's second copy, outside the tree (follower.ts). */
  | { t: 'following'; follower: Follower; running: Promise<void> }
  | { t: 'stopping' };

// Made while waiting for the claim (a spare of the control's pool is a claim away from serving):
// the first socket starts libzmq's context and I/O thread. The uplink's routing id is set for
// each connection it makes (see Forwarding.connectUp); the ROUTER is bound at the claim.
let spareUplink = uplinkSocket();
let spareDownlink = downlinkSocket();
let phase: Phase = { t: 'waiting' };

function enter(next: Phase): void {
  phase = next;
}

function tell(msg: FromNode): void {
  process.stdout.write(controlLine(msg));
}

function fatal(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  tell({ t: 'fatal', message });
  process.stderr.write(`arbor-node: ${message}\n`);
  process.exit(EXIT_FATAL);
}

function stop(): void {
  const was = phase;
  if (was.t === 'stopping') return;
  enter({ t: 'stopping' });
  if (was.t === 'following') {
    was.follower.stop();
    void was.running.finally(() => {
      was.follower.close();
      process.exit(0);
    });
    return;
  }
  if (was.t !== 'serving') process.exit(0);
  was.node.stop();
  spareUplink.close();
  void was.running.finally(() => {
    was.node.close();
    process.exit(0);
  });
}

/** --replicas 2: become node `id`'s follower (its log, an endpoint for its leader; no tree, no liveness link). */
async function claimFollower(msg: Extract<ToNode, { t: 'claim' }>, epoch: number): Promise<void> {
  enter({ t: 'claiming', id: msg.id });
  if (msg.log === null) fatal(new Error('a follower needs a log'));
  spareUplink.close();
  // The log here is a replaced leader's (its node moved to another host): kept for someone to look at.
  if (msg.follower?.keep === true) {
    try {
      renameSync(msg.log, `${msg.log}.replaced-${epoch}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') process.stderr.write(`arbor-node ${msg.id} (follower): cannot keep ${msg.log} aside: ${String(error)}\n`);
    }
  }
  const follower = new Follower({ id: msg.id, epoch, log: msg.log, fresh: msg.fresh, fsync: msg.fsync }, spareDownlink, fatal);
  try {
    if (msg.curve !== undefined && msg.listen.startsWith('tcp://')) {
      await startZapHandler(msg.curve, (refusal) => process.stderr.write(`arbor-node ${msg.id} (follower): refused a handshake from ${refusal.address}: ${refusal.reason}\n`));
      setForNextConnections(spareDownlink, curveServerOptions(msg.curve));
    }
    await follower.bind(msg.listen);
  } catch (error) {
    fatal(new Error(`cannot bind ${msg.listen}: ${error instanceof Error ? error.message : String(error)}`));
  }
  if (phase.t === 'stopping') process.exit(0);
  enter({ t: 'following', follower, running: follower.run() });
  tell({ t: 'ready', keys: follower.keys, cutBytes: follower.cutBytes, ...(msg.listen.startsWith('tcp://') && { tcp: spareDownlink.lastEndpoint ?? msg.listen }) });
}

async function claim(msg: Extract<ToNode, { t: 'claim' }>): Promise<void> {
  enter({ t: 'claiming', id: msg.id });
  let opened: { entries: Map<string, bigint>; cutBytes: number; log: StoreLog } = { entries: new Map(), cutBytes: 0, log: NO_LOG };
  try {
    if (msg.log !== null) {
      const path = msg.log;
      const log = WriteAheadLog.open(path, { fresh: msg.fresh }, { fatal, warn: (message) => process.stderr.write(`arbor-node ${msg.id}: ${message}\n`) });
      if (log.cutBytes > 0) process.stderr.write(`arbor-node ${msg.id}: cut a torn tail of ${log.cutBytes} bytes off log ${path} (${log.torn}); kept in ${path}.torn\n`);
      opened = log;
    }
  } catch (error) {
    fatal(error);
  }
  const node = new ComputingNode(
    {
      id: msg.id,
      entries: opened.entries,
      log: opened.log,
      fsync: msg.fsync,
      liveness: msg.liveness,
      ...(msg.curve !== undefined && { curve: msg.curve }),
      ...(msg.replica !== undefined && { replica: msg.replica }),
    },
    spareUplink,
    spareDownlink,
    tell,
    fatal,
  );
  let tcp: string | undefined;
  try {
    // Listening on tcp (children on other hosts): only cluster members get through the handshake.
    if (msg.curve !== undefined && (msg.tcp !== undefined || msg.listen.startsWith('tcp://'))) {
      await startZapHandler(msg.curve, (refusal) => process.stderr.write(`arbor-node ${msg.id}: refused a handshake from ${refusal.address}: ${refusal.reason}\n`));
    }
    tcp = await node.listen(msg.listen, msg.curve, msg.tcp);
  } catch (error) {
    fatal(new Error(`cannot bind ${msg.listen}: ${error instanceof Error ? error.message : String(error)}`));
  }
  // Stopped while claiming: exit as a stopped process does.
  if (phase.t === 'stopping') process.exit(0);
  enter({ t: 'serving', node, running: node.run() });
  tell({ t: 'ready', keys: opened.entries.size, cutBytes: opened.cutBytes, ...(tcp !== undefined && { tcp }) });
}

/**
 * --replicas 2: this follower takes over as its node's leader (the control promoted it: its
 * leader is lost). Its copy is closed and the leader's claim served as a spare's would be, on
 * the same log (replayed from the file) with new sockets: no process start in the takeover.
 */
async function promote(was: Extract<Phase, { t: 'following' }>, msg: Extract<ToNode, { t: 'claim' }>): Promise<void> {
  enter({ t: 'claiming', id: msg.id });
  was.follower.stop();
  await was.running;
  was.follower.close();
  spareUplink = uplinkSocket();
  spareDownlink = downlinkSocket();
  await claim(msg);
}

/** Applies the control's messages one at a time, in the order sent. */
async function serveControlChannel(): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  // Loaded: a spare process of the control's pool is now a claim away from serving.
  tell({ t: 'waiting' });
  for await (const line of lines) {
    const msg = parseToNode(line);
    const now = phase;
    const who = now.t === 'serving' ? ` ${now.node.id}` : now.t === 'claiming' ? ` ${now.id}` : now.t === 'following' ? ' (follower)' : '';
    if (typeof msg === 'string') {
      process.stderr.write(`arbor-node${who}: ignored a control message (${msg})\n`);
    } else if (msg.t === 'claim') {
      if (now.t === 'waiting') await (msg.follower !== undefined ? claimFollower(msg, msg.follower.epoch) : claim(msg));
      else if (now.t === 'following' && msg.follower === undefined) await promote(now, msg);
      else process.stderr.write(`arbor-node${who}: ignored a second claim\n`);
    } else if (now.t === 'serving') {
      now.node.control(msg);
    } else {
      process.stderr.write(`arbor-node${who}: ignored ${msg.t} before its claim\n`);
    }
  }
  // The control closed our channel (it stopped, or died even by SIGKILL): no node outlives it.
  stop();
}

// The control owns our lifecycle: it stops us with SIGTERM, and its end closes our stdin pipe,
// so no node outlives it. Ctrl-C in a terminal reaches the whole foreground group; the control
// decides what happens then, so SIGINT is ignored here.
process.on('SIGTERM', stop);
process.on('SIGINT', () => undefined);
process.stdin.on('error', stop);
process.stdout.on('error', stop);
armFailpoints();
void serveControlChannel();
