/**
 * @module The grpc-js echo server process (a helper of the baselines): binds 127.0.0.1:0 and
 * prints `listening <port>`; SIGTERM ends it. One process with one event loop, like the gateway.
 */
import { type sendUnaryData, Server, ServerCredentials, type ServerDuplexStream, type ServerUnaryCall } from '@grpc/grpc-js';
import type { ExecRequest, ExecResponse, SessionRequest, SessionResponse } from '../../proto/gen/arbor/v1/arbor.js';
import { EchoService, echoed } from './echo-service.js';

const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 });
server.addService(EchoService, {
  echo: (call: ServerUnaryCall<ExecRequest, ExecResponse>, callback: sendUnaryData<ExecResponse>) => callback(null, echoed(call.request)),
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
