/**
 * @module Optional bearer-token check (env ARBOR_TOKEN), as a server interceptor so no handler
 * can forget it. It guards the ArborService; health and reflection stay open, as probes and
 * schema tools expect.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { type ServerInterceptor, ServerInterceptingCall, status } from '@grpc/grpc-js';

const GUARDED = '/arbor.v1.ArborService/';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

// The scheme's name is case-insensitive (RFC 7235 section 2.1): "bearer", "BEARER" and "Bearer" are one scheme.
const BEARER = /^bearer[ \t]+(.*)$/is;

/**
 * Whether `presented` (an authorization header) carries the token `expected` was made from, in the
 * Bearer scheme whatever the case of its name. Compared in constant time over digests of equal
 * length, so neither the token's content nor its length shows in the time taken. The web view's
 * API uses it too, so gRPC and Connect accept the same headers.
 */
export function matches(presented: string | undefined, expected: Buffer): boolean {
  const token = presented === undefined ? undefined : BEARER.exec(presented)?.[1];
  return token !== undefined && timingSafeEqual(digest(token), expected);
}

/** The one refusal text, over gRPC and over Connect. */
export const TOKEN_REFUSED = 'missing or wrong bearer token: send metadata "authorization: Bearer <ARBOR_TOKEN>"';

/** What `matches` compares a presented token with. */
export const expectedToken = (token: string): Buffer => digest(token);

/** Why the token cannot be had: the gateway says it in one line and exits 2. */
export class TokenSourceError extends Error {}

/** The most a token file may hold: a token is a header value, not a document. */
const TOKEN_FILE_MAX = 4096;
// What an HTTP/2 header value may carry without escaping, and what `Bearer <token>` allows (RFC 6750's b64token is narrower).
const TOKEN_TEXT = /^[\x21-\x7e]+$/;

/**
 * The token to require, from env ARBOR_TOKEN or from the file `--token-file` / ARBOR_TOKEN_FILE
 * names (a systemd credential, a secret mounted by an orchestrator): a file keeps the token out
 * of the process's environment. The file must be a regular file that neither group nor others
 * can read (it is refused, not repaired: its mode is the owner's decision), of one line of
 * visible ASCII; one trailing newline is dropped. Both sources at once is a mistake, not a
 * precedence rule. `undefined`: no token is required.
 */
export function tokenFrom(env: Readonly<Record<string, string | undefined>>, file: string | undefined): string | undefined {
  const fromEnv = env['ARBOR_TOKEN'] === undefined || env['ARBOR_TOKEN'] === '' ? undefined : env['ARBOR_TOKEN'];
  if (file === undefined) return fromEnv;
  if (fromEnv !== undefined) throw new TokenSourceError('ARBOR_TOKEN and --token-file (ARBOR_TOKEN_FILE) are both set: keep one');
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new TokenSourceError(`--token-file ${file}: cannot open it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new TokenSourceError(`--token-file ${file}: not a regular file`);
    const mode = stat.mode & 0o777;
    if ((mode & 0o077) !== 0) throw new TokenSourceError(`--token-file ${file}: group or others may read it (mode ${mode.toString(8).padStart(3, '0')}); chmod 600 it`);
    if (stat.size > TOKEN_FILE_MAX) throw new TokenSourceError(`--token-file ${file}: ${stat.size} bytes, more than a token (at most ${TOKEN_FILE_MAX})`);
    const buffer = Buffer.alloc(TOKEN_FILE_MAX + 1);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, length).toString('latin1').replace(/\r?\n$/, '');
    if (text === '') throw new TokenSourceError(`--token-file ${file}: empty`);
    if (!TOKEN_TEXT.test(text)) throw new TokenSourceError(`--token-file ${file}: a token is one line of visible ASCII (no spaces, no control characters)`);
    return text;
  } finally {
    closeSync(fd);
  }
}

export function bearerTokenInterceptor(token: string): ServerInterceptor {
  const expected = expectedToken(token);
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, pass) => {
            const header = metadata.get('authorization')[0];
            if (!method.path.startsWith(GUARDED) || matches(typeof header === 'string' ? header : undefined, expected)) {
              pass(metadata);
              return;
            }
            call.sendStatus({
              code: status.UNAUTHENTICATED,
              details: TOKEN_REFUSED,
            });
          },
        });
      },
    });
}
