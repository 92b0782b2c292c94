/**
 * @module A gRPC call's deadline and cancellation as the control's call options: the deadline as
 * an absolute time (the control keeps every deadline in one heap, no timer per call), the
 * client's cancel as an AbortSignal. `done` unhooks the listener when the call is over.
 */
import type { Deadline, ServerUnaryCall } from '@grpc/grpc-js';
import { type CallOptions, cancelled } from '../control/index.js';

export function deadlineOf(deadline: Deadline): number | undefined {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : undefined;
}

/** The options of one call, and the function that unhooks them once it is answered. */
export function callOptions(call: ServerUnaryCall<unknown, unknown>): { options: CallOptions; done: () => void } {
  const controller = new AbortController();
  const onCancel = (): void => controller.abort(cancelled());
  call.once('cancelled', onCancel);
  const deadline = deadlineOf(call.getDeadline());
  return {
    options: { signal: controller.signal, ...(deadline !== undefined && { deadline }) },
    done: () => call.off('cancelled', onCancel),
  };
}
