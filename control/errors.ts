/**
 * @module The closed set of failures the control reports. The gateway maps each kind to a gRPC
 * status once (gateway/status.ts); messages are the `seed` console lines without `Error: `.
 * Code decides by `kind`, never by a message's text.
 */

export type ErrorKind = 'exists' | 'not-found' | 'unavailable' | 'wrong-parent' | 'invalid' | 'exhausted' | 'cancelled' | 'deadline';

export class ArborError extends Error {
  override readonly name = 'ArborError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** Why, in words, when known; kept apart so the message stays the console's exact line. */
    readonly reason?: string,
  ) {
    super(message);
  }
}

export const nodeExists = (id: number): ArborError => new ArborError('exists', `Node with id ${id} already exists`);
export const nodeNotFound = (id: number): ArborError => new ArborError('not-found', `Node with id ${id} doesn't exist`);
export const parentNotFound = (parent: number): ArborError => new ArborError('not-found', `Parent with id ${parent} not found`);
export const nodeUnavailable = (id: number, reason?: string): ArborError => new ArborError('unavailable', `Node ${id} is unavailable`, reason);
export const parentUnavailable = (parent: number, reason?: string): ArborError => new ArborError('unavailable', `Parent ${parent} is unavailable`, reason);
export const wrongParent = (id: number, placement: number | null, parent: number): ArborError =>
  new ArborError('wrong-parent', `Node ${id} belongs under ${placement ?? 'control'}, not under ${parent}`);
/** A store the node could not log: its disk has no room (it serves loads on, and stores again once there is room). */
export const diskFull = (id: number): ArborError => new ArborError('exhausted', `Node ${id} is read-only`, 'disk full');
export const invalidArgument = (problem: string): ArborError => new ArborError('invalid', problem);
/** The caller's deadline passed (its own, not the control's request timeout: that is `unavailable`). */
export const deadlineExceeded = (): ArborError => new ArborError('deadline', 'deadline exceeded');
/** The caller gave up (a cancelled call, a Session stream that ended). */
export const cancelled = (): ArborError => new ArborError('cancelled', 'cancelled by the caller');
/** The gateway is stopping: nothing new starts, and what waits is answered. */
export const stopping = (id: number): ArborError => nodeUnavailable(id, 'the gateway is stopping');
/**
 * A create, remove or heartbeat change that could not be saved in the data dir: not made (or
 * undone), and the call fails. A full disk is `exhausted` ("disk full": retry once space is
 * freed); anything else (read-only, an I/O error) is `unavailable`.
 */
export const notSaved = (what: string, problem: string, diskFull: boolean): ArborError =>
  new ArborError(diskFull ? 'exhausted' : 'unavailable', `${what}: ${problem}`, diskFull ? 'disk full' : problem);
