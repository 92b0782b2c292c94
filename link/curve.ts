/**
 * @module The cluster's key material and CURVE on ZeroMQ links between hosts.
 *
 * One keypair per cluster (zeromq's `curveKeyPair()`), kept in the `--cluster-secret` file
 * (mode 0600) that the gateway creates and every agent host gets a copy of. Every tcp link of
 * the cluster uses it: a listener is a CURVE server with the cluster's keys, a connecting side a
 * CURVE client that uses the same keypair and expects the server to hold it. A ZAP handler in
 * each process that listens on tcp admits only clients presenting the cluster's public key, so a
 * peer without the file gets nothing: its handshake fails, and the refusal is reported.
 *
 * The secret key never leaves the file except over a control channel (a pipe to a child, or
 * the CURVE-encrypted agent link): never in argv, the environment, a log line or the gRPC API.
 */
import { chmodSync, closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import type * as Zmq from 'zeromq';
import { zmq } from '../lib/zeromq.js';

/** The cluster's keypair, Z85-encoded (40 characters each). */
export interface ClusterKeys {
  publicKey: string;
  secretKey: string;
}

const Z85 = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

export const isZ85Key = (v: unknown): v is string => typeof v === 'string' && Z85.test(v);

/** The secret file is missing, unreadable or not a cluster secret; the message says which. */
export class ClusterSecretError extends Error {
  override readonly name = 'ClusterSecretError';
}

/**
 * Reads the cluster secret at `path`. With `create`, a missing file is created first (mode
 * 0600, a new keypair; `O_EXCL`, so two gateways never overwrite each other's). A file that
 * others may read is made 0600 and reported through `warn` (never its content).
 */
export function loadClusterSecret(path: string, create: boolean, warn: (message: string) => void = () => undefined): ClusterKeys {
  if (create) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        if (!zmq.capability.curve) throw new ClusterSecretError('this zeromq build has no CURVE support');
        const pair = zmq.curveKeyPair();
        writeSync(fd, `${JSON.stringify({ arborClusterSecret: 1, publicKey: pair.publicKey, secretKey: pair.secretKey })}\n`);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error instanceof ClusterSecretError ? error : new ClusterSecretError(`cannot create ${path}: ${(error as Error).message}`);
    }
  }
  let text: string;
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      chmodSync(path, 0o600);
      warn(`${path} was readable by others (mode ${mode.toString(8)}); made it 0600`);
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ClusterSecretError(`cannot read the cluster secret ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ClusterSecretError(`${path} is not an arbor cluster secret (not JSON)`);
  }
  const keys = parsed as Partial<ClusterKeys> | null;
  if (keys === null || typeof keys !== 'object' || !isZ85Key(keys.publicKey) || !isZ85Key(keys.secretKey)) {
    throw new ClusterSecretError(`${path} is not an arbor cluster secret (expected publicKey and secretKey, Z85)`);
  }
  return { publicKey: keys.publicKey, secretKey: keys.secretKey };
}

/** Socket options of a tcp listener of the cluster (set before its bind). */
export function curveServerOptions(keys: ClusterKeys): Record<string, number | string | boolean> {
  return { curveServer: true, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey, zapDomain: 'arbor' };
}

/** Socket options of a connection to a tcp listener of the cluster (set before its connect). */
export function curveClientOptions(keys: ClusterKeys): Record<string, number | string | boolean> {
  return { curveServer: false, curveServerKey: keys.publicKey, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey };
}

/** A refused handshake: the peer's address and why (its key is not the cluster's). */
export interface ZapRefusal {
  address: string;
  mechanism: string;
  reason: string;
}

let zapHandler: Promise<void> | null = null;
let zapSocket: Zmq.Router | null = null;

/**
 * Starts this process's ZAP handler (once; later calls return the first): libzmq asks it about
 * every handshake on a socket with a `zapDomain`, and it admits only CURVE clients holding the
 * cluster's public key. Refusals go to `refused` (one call each; the caller rate-limits its log).
 */
export async function startZapHandler(keys: ClusterKeys, refused: (refusal: ZapRefusal) => void): Promise<void> {
  if (zapHandler !== null) return zapHandler;
  const router = new zmq.Router({ linger: 0 });
  zapSocket = router;
  zapHandler = router.bind('inproc://zeromq.zap.01');
  await zapHandler;
  const clusterKey = z85Decode(keys.publicKey);
  void (async () => {
    // ZAP/1.0 (RFC 27): [peer, '', version, request id, domain, address, identity, mechanism, credentials...]
    for await (const frames of router) {
      const [peer, blank, version, requestId, , address, , mechanism, credential] = frames;
      if (peer === undefined || blank === undefined || requestId === undefined) continue;
      const mech = mechanism?.toString() ?? '';
      const ok = version?.toString() === '1.0' && mech === 'CURVE' && credential !== undefined && credential.equals(clusterKey);
      if (!ok) refused({ address: address?.toString() ?? '', mechanism: mech, reason: mech === 'CURVE' ? 'its public key is not the cluster key' : `mechanism ${mech || 'none'} is not allowed` });
      await router.send([peer, blank, '1.0', requestId, ok ? '200' : '400', ok ? 'OK' : 'not a cluster member', ok ? 'arbor' : '', '']);
    }
  })().catch(() => undefined);
}

/** Closes the ZAP handler (the process is stopping). */
export function stopZapHandler(): void {
  zapSocket?.close();
  zapSocket = null;
  zapHandler = null;
}

const Z85_CHARS = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** Z85 (ZeroMQ RFC 32) to bytes: a 40-character key is 32 bytes. */
export function z85Decode(text: string): Buffer {
  const out = Buffer.alloc((text.length / 5) * 4);
  for (let i = 0; i < text.length; i += 5) {
    let value = 0;
    for (let j = 0; j < 5; j++) value = value * 85 + Z85_CHARS.indexOf(text.charAt(i + j));
    out.writeUInt32BE(value >>> 0, (i / 5) * 4);
  }
  return out;
}
