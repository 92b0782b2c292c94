/** @module The caller's gRPC deadline as the control's absolute deadline. */
import type { Deadline } from '@grpc/grpc-js';
import type { CallOptions } from '../control/index.js';

export function callOptions(deadline: Deadline): CallOptions {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? { deadline: ms } : {};
}
