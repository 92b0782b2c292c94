/**
 * @module What the page bundle gets instead of `@grpc/grpc-js` (esbuild `--alias`, `bundle:web`).
 *
 * The CLI's own modules, which the page reuses as they are, import two values from grpc-js: the
 * `status` codes (format.ts) and, through the ts-proto code, `makeGenericClientConstructor` (the
 * Node gRPC client class, built when the module loads). grpc-js itself needs Node's http2 and
 * cannot run in a browser, so this stands in: the codes are the gRPC spec's numbers (the same as
 * Connect's `Code`), and the client constructor yields a class that says where it runs.
 */

/** The gRPC status codes (grpc/grpc doc/statuscodes.md), as grpc-js's `status` enum names them. */
export enum status {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

/** The base class ts-proto's client interface names (a type there; a value only for completeness). */
export class Client {
  constructor() {
    throw new Error('the gRPC client does not run in a browser: the web view speaks Connect');
  }
}

/** ts-proto builds the Node client class at load time; in the page it is never instantiated. */
export function makeGenericClientConstructor(): typeof Client {
  return Client;
}
