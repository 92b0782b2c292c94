/**
 * @module The gRPC server of the gateway: the ArborService bound to one control.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { ArborServiceService, type ArborServiceServer } from '../proto/gen/arbor/v1/arbor.js';
import type { Control } from '../control/index.js';
import * as commands from './commands.js';
import { session } from './session.js';
import { StreamRegistry } from './stream-registry.js';
import { unary } from './unary.js';
import { watch } from './watch.js';

/** Every request of this API is small; anything bigger is refused by grpc-js with RESOURCE_EXHAUSTED. */
const MAX_MESSAGE_BYTES = 64 * 1024;

export function arborService(control: Control, streams: StreamRegistry): ArborServiceServer {
  return {
    create: unary((req, call) => commands.create(control, req, call)),
    exec: unary((req, call) => commands.exec(control, req, call)),
    ping: unary((req, call) => commands.ping(control, req, call)),
    heartbeat: unary((req) => commands.heartbeat(control, req)),
    session: (call) => session(control, streams, call),
    watch: (call) => watch(control, streams, call),
  };
}

export interface Served {
  server: Server;
  port: number;
  streams: StreamRegistry;
}

/** Starts serving on `address` ("host:port"; port 0 picks a free one) and resolves with the bound port. */
export async function listen(control: Control, address: string): Promise<Served> {
  const server = new Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  });
  const streams = new StreamRegistry();
  server.addService(ArborServiceService, arborService(control, streams));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return { server, port, streams };
}

/**
 * Stops accepting calls, ends Watch streams, lets sessions and calls in flight finish for up
 * to `graceMs`, then cuts the rest.
 */
export function shutdown({ server, streams }: Served, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
    streams.closeAll();
  });
}
