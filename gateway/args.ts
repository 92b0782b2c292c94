/**
 * @module The gateway's command line: flags win over environment variables, which win over defaults.
 */

export interface GatewayArgs {
  listen: string;
  requestTimeoutMs: number;
}

export const USAGE = `usage: arbor-gateway [--listen host:port] [--request-timeout-ms N]
  --listen              address to serve gRPC on (env ARBOR_LISTEN, default 127.0.0.1:50051; port 0 picks a free port)
  --request-timeout-ms  how long a command waits for a node's reply (env ARBOR_REQUEST_TIMEOUT_MS, default 2000)`;

export type ParsedGatewayArgs = { run: GatewayArgs } | { help: true } | { problem: string };

/** The arguments to run with, a request for help, or the problem in words. */
export function parseGatewayArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedGatewayArgs {
  let listen = env.ARBOR_LISTEN ?? '127.0.0.1:50051';
  let timeout = env.ARBOR_REQUEST_TIMEOUT_MS ?? '2000';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return { help: true };
    const [flag, inline] = arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    const value = inline ?? argv[++i];
    if (value === undefined) return { problem: `${flag} needs a value` };
    if (flag === '--listen') listen = value;
    else if (flag === '--request-timeout-ms') timeout = value;
    else return { problem: `unknown option ${flag}` };
  }
  if (!/^.+:\d+$/.test(listen)) return { problem: `--listen ${listen}: expected host:port` };
  const requestTimeoutMs = Number(timeout);
  if (!/^\d+$/.test(timeout) || requestTimeoutMs < 1 || requestTimeoutMs > 3_600_000) {
    return { problem: `--request-timeout-ms ${timeout}: expected milliseconds from 1 to 3600000` };
  }
  return { run: { listen, requestTimeoutMs } };
}
