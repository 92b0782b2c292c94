/**
 * @module Optional bearer-token check (env ARBOR_TOKEN), as a server interceptor so no handler
 * can forget it. It guards the ArborService; health and reflection stay open, as probes and
 * schema tools expect.
 */
import { timingSafeEqual } from 'node:crypto';
import { type ServerInterceptor, ServerInterceptingCall, status } from '@grpc/grpc-js';

const GUARDED = '/arbor.v1.ArborService/';

/** Whether `presented` (an authorization header) is exactly `expected`, compared in constant time; the web view's API uses it too. */
export function matches(presented: string | undefined, expected: Buffer): boolean {
  if (presented === undefined) return false;
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The one refusal text, over gRPC and over Connect. */
export const TOKEN_REFUSED = 'missing or wrong bearer token: send metadata "authorization: Bearer <ARBOR_TOKEN>"';

/** The authorization header value a client must send. */
export const expectedHeader = (token: string): Buffer => Buffer.from(`Bearer ${token}`);

export function bearerTokenInterceptor(token: string): ServerInterceptor {
  const expected = expectedHeader(token);
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
