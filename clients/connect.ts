/**
 * @module Opens the gRPC client of a gateway and waits until it is reachable.
 *
 * The console checks reachability before reading any input, so that an unreachable gateway is
 * one clear message (exit 2) rather than every command failing.
 */
import { credentials } from '@grpc/grpc-js';
import { ArborServiceClient } from '../proto/gen/arbor/v1/arbor.js';
import { quote } from '../proto/limits.js';

/** How long the console waits for the gateway to accept a connection. */
export const CONNECT_TIMEOUT_MS = 3000;

/** The gateway could not be reached (or its address makes no sense). */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
}

/**
 * Creates the client for `target` and waits until its channel is ready.
 *
 * @throws ConnectError naming the target, when the address is invalid or nothing answers
 *   within `timeoutMs` (the client is closed first)
 */
export async function connect(target: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<ArborServiceClient> {
  let client: ArborServiceClient;
  try {
    client = new ArborServiceClient(target, credentials.createInsecure());
  } catch (error) {
    throw new ConnectError(`invalid gateway address ${quote(target)}: ${(error as Error).message}`, { cause: error });
  }
  try {
    await new Promise<void>((resolve, reject) => {
      client.waitForReady(Date.now() + timeoutMs, (error) => (error === undefined ? resolve() : reject(error)));
    });
  } catch (error) {
    client.close();
    const seconds = timeoutMs / 1000;
    throw new ConnectError(
      `cannot reach the gateway at ${target} within ${seconds} s (is it running? set --target or ARBOR_TARGET)`,
      { cause: error },
    );
  }
  return client;
}
