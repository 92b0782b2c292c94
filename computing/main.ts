/**
 * @module The computing process: one per tree node, spawned by the control (its OS parent).
 *
 * Kept lean on purpose (it starts often and many run at once): zeromq and the shared protocol
 * only, no gRPC, no logger.
 */
import { parseNodeArgs } from './args.js';
import { ComputingNode } from './node.js';
import { downlinkSocket, routingId, uplinkSocket } from './protocol/index.js';

const args = parseNodeArgs(process.argv.slice(2));
if (typeof args === 'string') {
  process.stderr.write(`arbor-node: ${args}\n`);
  process.exit(2);
}

const uplink = uplinkSocket(routingId(args.id));
const downlink = downlinkSocket();
await downlink.bind(args.listen);
uplink.connect(args.parent);

const node = new ComputingNode(args.id, uplink, downlink);
const running = node.run();
node.hello(args.corr, process.pid);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  node.stop();
  uplink.close();
  downlink.close();
  void running.finally(() => process.exit(0));
}

// The control owns our lifecycle: it stops us with SIGTERM, and its end closes our stdin pipe
// (also when it is SIGKILLed), so no node outlives it. Ctrl-C in a terminal reaches the whole
// foreground group; the control decides what happens then, so SIGINT is ignored here.
process.on('SIGTERM', stop);
process.on('SIGINT', () => undefined);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
