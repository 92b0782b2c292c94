/**
 * @module A bare JavaScript relay (a helper of the relay-chain baseline): a ROUTER bound to
 * argv[2] for the hop above, a DEALER connected to argv[3] for the hop below; every message from
 * above goes down, every reply from below goes back up to the peer that sent the request. One
 * message in flight at a time is all the baseline asks, so the last peer above is enough.
 * Prints `ready`.
 */
import { Dealer, Router } from 'zeromq';

const options = { linger: 0, sendHighWaterMark: 100_000, receiveHighWaterMark: 100_000 };
const up = new Router(options);
const down = new Dealer(options);
await up.bind(process.argv[2] as string);
down.connect(process.argv[3] as string);
process.stdout.write('ready\n');
let above: Buffer | undefined;
process.on('SIGTERM', () => {
  up.close();
  down.close();
});

async function downward(): Promise<void> {
  for await (const [peer, body] of up) {
    if (peer === undefined || body === undefined) continue;
    above = peer;
    await down.send(body);
  }
}

async function upward(): Promise<void> {
  for await (const [body] of down) {
    if (above !== undefined && body !== undefined) await up.send([above, body]);
  }
}

await Promise.all([downward(), upward()]).catch(() => undefined);
process.exit(0);
