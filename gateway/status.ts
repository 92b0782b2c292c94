/**
 * @module The one place where control failures become gRPC statuses.
 */
import { status } from '@grpc/grpc-js';
import { ArborError, type ErrorKind, type Logger } from '../control/index.js';

const CODES: Record<ErrorKind, status> = {
  exists: status.ALREADY_EXISTS,
  'not-found': status.NOT_FOUND,
  unavailable: status.UNAVAILABLE,
  'wrong-parent': status.FAILED_PRECONDITION,
  invalid: status.INVALID_ARGUMENT,
  exhausted: status.RESOURCE_EXHAUSTED,
  cancelled: status.CANCELLED,
  deadline: status.DEADLINE_EXCEEDED,
};

export interface Status {
  code: status;
  details: string;
  /** Why, when known (unary calls: trailing metadata "arbor-reason"; Session: SessionError.reason). */
  reason: string;
}

/** Known failures keep their message (the `seed` console text); anything else is INTERNAL, without internals. */
export function toStatus(error: unknown, log: Logger): Status {
  if (error instanceof ArborError) return { code: CODES[error.kind], details: error.message, reason: error.reason ?? '' };
  log.error({ err: error }, 'internal error');
  return { code: status.INTERNAL, details: 'internal error', reason: '' };
}
