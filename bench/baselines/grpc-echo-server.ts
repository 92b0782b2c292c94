/**
 * @module The grpc-js echo server process (a helper of the baselines): binds 127.0.0.1:0 and
 * prints `listening <port>`; SIGTERM ends it. One process with one event loop, like the gateway.
 *
 * With a zeromq endpoint in argv[2] it also serves `Relay`: the unary echo, answered only after
 * one round trip to the zeromq echo peer at that endpoint. That is the least any gateway that
 * hands each call to another process over zeromq can do, so it is the floor of arbor's unary
 * latency, measured rather than estimated.
 */
import { type sendUnaryData, Server, ServerCredentials, type ServerDuplexStream, type ServerUnaryCall } from '@grpc/grpc-js';
import { Dealer } from 'zeromq';
import type { ExecRequest, ExecResponse, SessionRequest, SessionResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { EchoService, echoed } from './echo-service.js';

/** A round trip to the zeromq echo peer: a 20-byte message (an arbor store record's size). */
function relayLink(endpoint: string): () => Promise<void> {
  const dealer = new Dealer({ linger: 0, sendHighWaterMark: 100_000, receiveHighWaterMark: 100_000 });
  dealer.connect(endpoint);
  const waiting = new Map<number, () => void>();
  let next = 0;
  void (async () => {
    for await (const [msg] of dealer) waiting.get(msg?.readUInt32LE(0) ?? -1)?.();
  })().catch(() => undefined);
  // zeromq.js allows one send at a time per socket: queue them.
  let sending = Promise.resolve();
  return () =>
    new Promise<void>((resolve) => {
      const id = next++ >>> 0;
      waiting.set(id, () => {
        waiting.delete(id);
        resolve();
      });
      const msg = Buffer.alloc(20);
      msg.writeUInt32LE(id, 0);
      sending = sending.then(() => dealer.send(msg)).catch(() => undefined);
    });
}

const relayEndpoint = process.argv[2];
const roundTrip = relayEndpoint === undefined ? undefined : relayLink(relayEndpoint);

const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 });
server.addService(EchoService, {
  echo: (call: ServerUnaryCall<ExecRequest, ExecResponse>, callback: sendUnaryData<ExecResponse>) => callback(null, echoed(call.request)),
  relay: (call: ServerUnaryCall<ExecRequest, ExecResponse>, callback: sendUnaryData<ExecResponse>) => {
    if (roundTrip === undefined) return callback({ code: 12, details: 'started without a relay endpoint' });
    void roundTrip().then(() => callback(null, echoed(call.request)));
  },
  stream: (call: ServerDuplexStream<SessionRequest, SessionResponse>) => {
    call.on('data', (req: SessionRequest) => {
      const results = req.commands.map(({ tag, command }) => {
        const exec = command?.$case === 'exec' ? command.value : { id: 0, name: 'x', value: undefined };
        return { tag, result: { $case: 'exec' as const, value: echoed(exec) } };
      });
      call.write({ results });
    });
    call.on('end', () => call.end());
    call.on('error', () => undefined);
  },
});
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    process.stderr.write(`grpc-echo-server: ${error.message}\n`);
    process.exit(2);
  }
  process.stdout.write(`listening ${port}\n`);
});
process.on('SIGTERM', () => {
  server.forceShutdown();
  process.exit(0);
});
