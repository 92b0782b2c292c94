/**
 * @module The computing process: one per tree node, started by the control (its OS parent) or
 * by an agent, and told what to be on its control channel (stdin/stdout, one JSON object per
 * line; see protocol/control-channel.ts): first a `claim` (id, endpoint, log), then `link`s.
 *
 * Kept lean on purpose (it starts often and many run at once): zeromq, node:fs and the shared
 * protocol only; no gRPC, no logger.
 *
 * Exit codes: 0 when stopped (SIGTERM, or the control channel closed), 3 when it cannot serve
 * (corrupt log, failed write, endpoint refused), after a `fatal` message saying why.
 */
import { createInterface } from 'node:readline';
import { controlLine, parseToNode, type ToNode } from './protocol/control-channel.js';
import { downlinkSocket, startZapHandler, uplinkSocket } from './protocol/index.js';
import { armFailpoints } from './failpoints.js';
import { ComputingNode } from './node.js';
import { NO_LOG, type Opened, WriteAheadLog } from './wal.js';

const EXIT_FATAL = 3;

// Made while waiting for the claim (a spare of the control's pool is a claim away from serving):
// the first socket starts libzmq's context and I/O thread. The uplink's routing id is set for
// each connection it makes (see ComputingNode.connectUp); the ROUTER is bound at the claim.
const spareUplink = uplinkSocket();
const spareDownlink = downlinkSocket();
let node: ComputingNode | undefined;
let stopNode: (() => void) | undefined;
let stopping = false;

function fatal(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stdout.write(controlLine({ t: 'fatal', message }));
  process.stderr.write(`arbor-node: ${message}\n`);
  process.exit(EXIT_FATAL);
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  if (stopNode === undefined) process.exit(0);
  stopNode();
}

async function claim(msg: Extract<ToNode, { t: 'claim' }>): Promise<void> {
  let opened: Pick<Opened, 'entries' | 'cutBytes'> & { log: typeof NO_LOG } = { entries: new Map(), cutBytes: 0, log: NO_LOG };
  try {
    if (msg.log !== null) opened = WriteAheadLog.open(msg.log, { fresh: msg.fresh }, fatal);
  } catch (error) {
    fatal(error);
  }
  const uplink = spareUplink;
  const claimed = new ComputingNode(msg.id, uplink, { entries: opened.entries, log: opened.log, fsync: msg.fsync }, fatal);
  let tcp: string | undefined;
  try {
    // Listening on tcp (children on other hosts): only cluster members get through the handshake.
    if (msg.curve !== undefined && (msg.tcp !== undefined || msg.listen.startsWith('tcp://'))) {
      await startZapHandler(msg.curve, (refusal) => process.stderr.write(`arbor-node ${msg.id}: refused a handshake from ${refusal.address}: ${refusal.reason}\n`));
    }
    tcp = await claimed.listen(msg.listen, msg.intervalMs, spareDownlink, msg.curve, msg.tcp);
  } catch (error) {
    fatal(new Error(`cannot bind ${msg.listen}: ${error instanceof Error ? error.message : String(error)}`));
  }
  claimed.setInterval(msg.intervalMs);
  const running = claimed.run();
  node = claimed;
  stopNode = () => {
    claimed.stop();
    uplink.close();
    void running.finally(() => {
      opened.log.close();
      process.exit(0);
    });
  };
  process.stdout.write(controlLine({ t: 'ready', keys: opened.entries.size, cutBytes: opened.cutBytes, ...(tcp !== undefined && { tcp }) }));
}

/** Applies the control's messages one at a time, in the order sent. */
async function serveControlChannel(): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  // Loaded: a spare process of the control's pool is now a claim away from serving.
  process.stdout.write(controlLine({ t: 'waiting' }));
  for await (const line of lines) {
    const msg = parseToNode(line);
    if (typeof msg === 'string') {
      process.stderr.write(`arbor-node${node ? ` ${node.id}` : ''}: ignored a control message (${msg})\n`);
      continue;
    }
    if (msg.t === 'claim') {
      if (node !== undefined) process.stderr.write(`arbor-node ${node.id}: ignored a second claim\n`);
      else await claim(msg);
    } else if (node === undefined) {
      process.stderr.write(`arbor-node: ignored ${msg.t} before claim\n`);
    } else if (msg.t === 'link') node.link(msg);
    else await node.changeInterval(msg).catch(fatal);
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
