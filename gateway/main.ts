/**
 * @module arbor-gateway: the control core behind a gRPC server.
 *
 * Its first stdout line is `arbor-gateway listening on <host>:<port>` (scripts and tests wait
 * for it). SIGTERM or SIGINT: stop accepting calls, let calls in flight finish (bounded), stop
 * every computing process, exit 0.
 */
import { Control } from '../control/index.js';
import { parseGatewayArgs, USAGE } from './args.js';
import { listen, type Served, shutdown } from './server.js';

const DRAIN_MS = 5000;

const parsed = parseGatewayArgs(process.argv.slice(2), process.env);
if ('help' in parsed) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if ('problem' in parsed) {
  process.stderr.write(`arbor-gateway: ${parsed.problem}\n${USAGE}\n`);
  process.exit(2);
}
const args = parsed.run;

const control = await Control.start({ requestTimeoutMs: args.requestTimeoutMs });
let served: Served;
try {
  served = await listen(control, args.listen);
} catch (error) {
  process.stderr.write(`arbor-gateway: cannot listen on ${args.listen}: ${error instanceof Error ? error.message : String(error)}\n`);
  await control.close();
  process.exit(2);
}
const host = args.listen.slice(0, args.listen.lastIndexOf(':'));
process.stdout.write(`arbor-gateway listening on ${host}:${served.port}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await shutdown(served, DRAIN_MS);
  await control.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
