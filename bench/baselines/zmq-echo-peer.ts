/**
 * @module The zeromq echo peer (a helper of the baselines): a ROUTER bound to the endpoint in
 * argv[2], with arbor's link settings, sending every message straight back. Prints `ready`.
 */
import { Router } from 'zeromq';

const router = new Router({ linger: 0, sendHighWaterMark: 100_000, receiveHighWaterMark: 100_000 });
await router.bind(process.argv[2] as string);
process.stdout.write('ready\n');
process.on('SIGTERM', () => router.close());
try {
  for await (const [peer, body] of router) {
    if (peer !== undefined && body !== undefined) await router.send([peer, body]);
  }
} catch {
  // closed while sending
}
process.exit(0);
