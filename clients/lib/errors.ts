/**
 * @module `ArborError`: the one error the library rejects with, and how gRPC statuses map onto it.
 *
 * A program using the library sees a closed set of codes (as connect-es's `ConnectError` does),
 * never a grpc-js `ServiceError`: the transport is the library's business. The gRPC status stays
 * reachable as `grpcStatus` (and the original error as `cause`) for whoever needs the detail,
 * e.g. FAILED_PRECONDITION, which the closed set folds into `invalid-argument`.
 */
import { status, type ServiceError } from '@grpc/grpc-js';

/** The closed set of error codes. */
export const ARBOR_ERROR_CODES = [
  'not-found',
  'already-exists',
  'unavailable',
  'invalid-argument',
  'deadline-exceeded',
  'cancelled',
  'unauthenticated',
  'resource-exhausted',
  'internal',
] as const;

/** Why a call failed. */
export type ArborErrorCode = (typeof ARBOR_ERROR_CODES)[number];

/** The trailing metadata key in which the gateway says why, when it knows (e.g. which node above does not answer). */
export const REASON_TRAILER = 'arbor-reason';

/** What an `ArborError` is built from, beside its message. */
export interface ArborErrorDetails {
  /** Why, in words, from the gateway (the `arbor-reason` trailer, or a Session error's `reason`); '' when none. */
  reason?: string;
  /** The node the call was about, when it was about one. */
  nodeId?: number;
  /** The gRPC status number the gateway answered with, when it did. */
  grpcStatus?: number;
  /** The error this one wraps (a grpc-js error, an abort reason). */
  cause?: unknown;
}

/** The one error every method of `ArborClient` and `ArborSession` rejects with. */
export class ArborError extends Error {
  override readonly name = 'ArborError';
  /** Why, in words, from the gateway; '' when it said nothing more than the message. */
  readonly reason: string;
  /** The node the call was about (create, store, load, ping, remove), when there is one. */
  readonly nodeId: number | undefined;
  /** The gRPC status number behind `code`, when the gateway answered with one. */
  readonly grpcStatus: number | undefined;

  constructor(
    readonly code: ArborErrorCode,
    message: string,
    details: ArborErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.reason = details.reason ?? '';
    this.nodeId = details.nodeId;
    this.grpcStatus = details.grpcStatus;
  }
}

/**
 * The code of a gRPC status. FAILED_PRECONDITION (a parent given where the tree places the id
 * elsewhere) and OUT_OF_RANGE are arguments the caller must change: `invalid-argument`.
 * PERMISSION_DENIED is a token problem as UNAUTHENTICATED is; ABORTED asks for a retry, as
 * UNAVAILABLE does. Anything else (the API never sends it) is `internal`.
 */
export function codeOfStatus(code: number): ArborErrorCode {
  return CODES.get(code) ?? 'internal';
}

const CODES: ReadonlyMap<number, ArborErrorCode> = new Map([
  [status.NOT_FOUND, 'not-found'],
  [status.ALREADY_EXISTS, 'already-exists'],
  [status.UNAVAILABLE, 'unavailable'],
  [status.ABORTED, 'unavailable'],
  [status.INVALID_ARGUMENT, 'invalid-argument'],
  [status.FAILED_PRECONDITION, 'invalid-argument'],
  [status.OUT_OF_RANGE, 'invalid-argument'],
  [status.DEADLINE_EXCEEDED, 'deadline-exceeded'],
  [status.CANCELLED, 'cancelled'],
  [status.UNAUTHENTICATED, 'unauthenticated'],
  [status.PERMISSION_DENIED, 'unauthenticated'],
  [status.RESOURCE_EXHAUSTED, 'resource-exhausted'],
]);

/** An error status the gateway answered with (a Session command's `SessionError`, or a unary call's status). */
export function fromStatus(code: number, message: string, reason: string, nodeId: number | undefined, cause?: unknown): ArborError {
  const text = message === '' ? (status[code] ?? `status ${code}`) : message;
  return new ArborError(codeOfStatus(code), text, { reason, nodeId, grpcStatus: code, cause });
}

/** A grpc-js call error as an `ArborError` (its `arbor-reason` trailer as `reason`). */
export function fromServiceError(error: ServiceError, nodeId: number | undefined): ArborError {
  const trailer = error.metadata?.get(REASON_TRAILER)[0];
  const reason = typeof trailer === 'string' ? trailer : '';
  return fromStatus(error.code, error.details || error.message, reason, nodeId, error);
}

/** The caller's signal aborted the call. */
export function cancelledBy(signal: AbortSignal, nodeId?: number): ArborError {
  return new ArborError('cancelled', 'the call was cancelled by its signal', { nodeId, cause: signal.reason });
}

/** The caller's `timeoutMs` passed first (a Session command, whose stream has no per-command deadline). */
export function timedOut(timeoutMs: number, nodeId?: number): ArborError {
  return new ArborError('deadline-exceeded', `no answer within ${timeoutMs} ms`, { nodeId });
}

/** A bad argument, refused before anything is sent. */
export function invalidArgument(problem: string, nodeId?: number): ArborError {
  return new ArborError('invalid-argument', problem, { nodeId });
}
