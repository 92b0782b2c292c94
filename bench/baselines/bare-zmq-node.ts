/**
 * @module The bare process of the baselines: Node, zeromq loaded, one DEALER connected to the
 * endpoint in argv[2], which sends its pid once and then idles, or, given an interval in ms as
 * argv[3], also sends a 15-byte message every interval (the floor of a heartbeat). Stdio and
 * lifetime as a computing process: it ends on SIGTERM or when its stdin closes.
 */
import { createRequire } from 'node:module';
import type * as Zmq from 'zeromq';

// Loaded the way the computing process loads it (see computing/protocol/sockets.ts): an ESM
// import of this CommonJS package costs about 4 MB of RSS at start, and the baseline should not
// carry a cost the computing process avoids.
const { Dealer } = createRequire(import.meta.url)('zeromq') as typeof Zmq;

const dealer = new Dealer({ linger: 0 });
dealer.connect(process.argv[2] as string);
await dealer.send(String(process.pid));

const intervalMs = Number(process.argv[3] ?? 0);
const beat = Buffer.alloc(15);
const timer = intervalMs > 0 ? setInterval(() => void dealer.send(beat).catch(() => undefined), intervalMs) : undefined;

const stop = (): void => {
  clearInterval(timer);
  dealer.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
