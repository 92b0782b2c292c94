/**
 * @module Optional bearer-token check (env ARBOR_TOKEN), as a server interceptor so no handler
 * can forget it. It guards the ArborService; health and reflection stay open, as probes and
 * schema tools expect.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
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
