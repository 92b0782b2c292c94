/**
 * @module The bare process of the baselines: Node, zeromq loaded, one DEALER connected to the
 * endpoint in argv[2], which sends its pid once and then idles, or, given an interval in ms as
 * argv[3], also sends a 15-byte message every interval (the floor of a JavaScript heartbeat).
 * A line `zmtp <ms>` on stdin reconnects it with libzmq's own heartbeats at that interval (0: off):
 * PING/PONG in libzmq's I/O thread, no JavaScript per beat, the floor of arbor's liveness; a line
 * `beat <ms>` sends that 15-byte message every `ms` from then on (0: stops). Stdio
 * and lifetime as a computing process: it ends on SIGTERM or when its stdin closes.
 */
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import type * as Zmq from 'zeromq';

// Loaded the way the computing process loads it (see link/sockets.ts): an ESM import of this
// CommonJS package costs megabytes of RSS at start, and the baseline should not
// carry a cost the computing process avoids.
const { Dealer } = createRequire(import.meta.url)('zeromq') as typeof Zmq;

const endpoint = process.argv[2] as string;
/** Reconnecting as arbor's liveness link does (link/sockets.ts), for the move baseline. */
const RECONNECT = { reconnectInterval: 20, reconnectMaxInterval: 200 } as const;
let dealer = new Dealer({ linger: 0, ...RECONNECT });
dealer.connect(endpoint);
await dealer.send(String(process.pid));

const beat = Buffer.alloc(15);
let timer: NodeJS.Timeout | undefined;
/** A 15-byte message from a JavaScript timer every `ms` (0: none). */
function beatEvery(ms: number): void {
  clearInterval(timer);
  timer = ms > 0 ? setInterval(() => void dealer.send(beat).catch(() => undefined), ms) : undefined;
}
beatEvery(Number(process.argv[3] ?? 0));

/**
 * A new socket, not a reconnect: a DEALER's disconnected pipe can linger (and keep its
 * heartbeats) until the socket's next operation, which would bias the floor.
 */
function zmtp(ms: number): void {
  dealer.close();
  dealer = new Dealer({ linger: 0, heartbeatInterval: ms, heartbeatTimeout: 3 * ms, ...RECONNECT });
  dealer.connect(endpoint);
}

const stop = (): void => {
  clearInterval(timer);
  dealer.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const match = /^(zmtp|beat) (\d+)$/.exec(line.trim());
  if (match?.[1] === 'zmtp') zmtp(Number(match[2]));
  if (match?.[1] === 'beat') beatEvery(Number(match[2]));
});
lines.on('close', stop);
process.stdin.on('error', stop);
