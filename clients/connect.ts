/**
 * @module Opens the gRPC client of a gateway and waits until it is reachable.
 *
 * The console checks reachability before reading any input, so that an unreachable gateway is
 * one clear message (exit 2) rather than every command failing.
 */
import { readFileSync } from 'node:fs';
import { credentials } from '@grpc/grpc-js';
import { ArborServiceClient } from '../proto/gen/arbor/v1/arbor.js';
import { quote } from '../proto/limits.js';

/** How long the console waits for the gateway to accept a connection. */
export const CONNECT_TIMEOUT_MS = 3000;

/**
 * The channel's own reconnection backoff (grpc-js doubles-ish with jitter between these): a lost
 * gateway is retried after about 100 ms, then less and less often, at least every 5 s. grpc-js's
 * defaults (1 s up to 120 s) would leave an interactive user waiting minutes after a restart.
 */
export const RECONNECT_BACKOFF_MS = { initial: 100, max: 5000 } as const;

const CHANNEL_OPTIONS = {
  'grpc.initial_reconnect_backoff_ms': RECONNECT_BACKOFF_MS.initial,
  'grpc.max_reconnect_backoff_ms': RECONNECT_BACKOFF_MS.max,
};

/** The gateway could not be reached (or its address makes no sense). */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
}

/**
 * Creates the client for `target` (TLS when `tlsCa`, a CA certificate file, is given) and waits
 * until its channel is ready.
 *
 * @throws ConnectError naming the target, when the address is invalid or nothing answers
 *   within `timeoutMs` (the client is closed first)
 */
export async function connect(
  target: string,
  options: { tlsCa?: string; timeoutMs?: number } = {},
): Promise<ArborServiceClient> {
  const { tlsCa, timeoutMs = CONNECT_TIMEOUT_MS } = options;
  let client: ArborServiceClient;
  let ca: Buffer | undefined;
  if (tlsCa !== undefined) {
    try {
      ca = readFileSync(tlsCa);
    } catch (error) {
      throw new ConnectError(`cannot read --tls-ca ${quote(tlsCa)}: ${(error as Error).message}`, { cause: error });
    }
  }
  if (ca !== undefined) hideIpServerNameWarning();
  try {
    const channel = ca === undefined ? credentials.createInsecure() : credentials.createSsl(ca);
    client = new ArborServiceClient(target, channel, CHANNEL_OPTIONS);
  } catch (error) {
    throw new ConnectError(`invalid gateway address ${quote(target)}: ${(error as Error).message}`, { cause: error });
  }
  try {
    await waitUntilReady(client, timeoutMs);
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

/** Resolves once `client`'s channel is ready (connecting it if idle); rejects after `timeoutMs`. */
export function waitUntilReady(client: ArborServiceClient, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    client.waitForReady(Date.now() + timeoutMs, (error) => (error === undefined ? resolve() : reject(error)));
  });
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
