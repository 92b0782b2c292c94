/**
 * @module Opens the gRPC client of a gateway and waits until it is reachable.
 *
 * The console checks reachability before reading any input, so that an unreachable gateway is
 * one clear message (exit 2) rather than every command failing.
 */
import { readFileSync } from 'node:fs';
import { quote } from '../proto/limits.js';
import { ArborClient } from './lib/client.js';

/** How long the console waits for the gateway to accept a connection. */
export const CONNECT_TIMEOUT_MS = 3000;

/** The gateway could not be reached (or its address makes no sense). */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
}

/**
 * Creates the library's client for `target` (TLS when `tlsCa`, a CA certificate file, is given;
 * `token` on every call) and waits until its channel is ready.
 *
 * @throws ConnectError naming the target, when the address is invalid or nothing answers
 *   within `timeoutMs` (the client is closed first)
 */
export async function connect(
  target: string,
  options: { tlsCa?: string; token?: string; timeoutMs?: number } = {},
): Promise<ArborClient> {
  const { tlsCa, token, timeoutMs = CONNECT_TIMEOUT_MS } = options;
  let ca: Buffer | undefined;
  if (tlsCa !== undefined) {
    try {
      ca = readFileSync(tlsCa);
    } catch (error) {
      throw new ConnectError(`cannot read --tls-ca ${quote(tlsCa)}: ${(error as Error).message}`, { cause: error });
    }
  }
  if (ca !== undefined) hideIpServerNameWarning();
  let client: ArborClient;
  try {
    client = new ArborClient({ target, ...(token !== undefined && { token }), ...(ca !== undefined && { tls: { ca } }) });
  } catch (error) {
    const why = (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message;
    throw new ConnectError(`invalid gateway address ${quote(target)}: ${why}`, { cause: error });
  }
  try {
    await client.waitForReady({ timeoutMs });
  } catch (error) {
    client.close();
    const seconds = timeoutMs / 1000;
    throw new ConnectError(
      `cannot reach the gateway at ${target} within ${seconds} s (is it running${ca === undefined ? '' : ' with TLS'}? set --target or ARBOR_TARGET)`,
      { cause: error },
    );
  }
  return client;
}

let warningFiltered = false;

/**
 * grpc-js gives an IP target (`127.0.0.1:50051`) to TLS as the server name, which Node deprecates
 * with a warning (DEP0123) on every run; the user can do nothing about it, so it is not printed.
 * Every other warning still is.
 */
function hideIpServerNameWarning(): void {
  if (warningFiltered) return;
  warningFiltered = true;
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => {
    if (warning.code === 'DEP0123') return;
    for (const print of printers) print(warning);
  });
}
