/**
 * @module The console's reply lines, exactly as the assignment's output table spells them.
 *
 * Pure. Two formats: `seed` (the default; the lab report's transcript) and `mai` (the course's
 * official strings). The gateway's error messages already are the seed text without `Error: `,
 * so seed errors print them as they are; mai errors are chosen by command and status code, and
 * fall back to the seed text where the course has no string of its own (e.g. FAILED_PRECONDITION,
 * INVALID_ARGUMENT).
 */
import { status } from '@grpc/grpc-js';
import type { KeyEvent } from './lib/types.js';
import type { ExecCommand, Outcome, RemoteCommand } from './command.js';
import type { OutputFormat } from './output-format.js';

export { OUTPUT_FORMATS, type OutputFormat } from './output-format.js';

/** The line for a line the console refused itself (bad input): the same in both formats. */
export function formatLocalError(message: string): string {
  return `Error: ${oneLine(message)}`;
}

/** The one line that answers `command`, given its outcome. */
export function formatReply(command: RemoteCommand, outcome: Outcome, format: OutputFormat): string {
  if (outcome.$case === 'error') return formatError(command, outcome.value.code, outcome.value.message, format);
  switch (command.kind) {
    case 'create':
      if (outcome.$case !== 'create') break;
      return `Ok: ${outcome.value.pid}`;
    case 'exec':
      if (outcome.$case !== 'exec') break;
      return formatExec(command, outcome.value.found, outcome.value.value, format);
    case 'ping':
      if (outcome.$case !== 'ping') break;
      if (format === 'mai') return outcome.value.available ? 'Ok: 1' : 'Ok: 0';
      return outcome.value.available ? `Ok: ${command.id} is available` : `Error: ${command.id} is unavailable`;
    case 'heartbeat':
      if (outcome.$case !== 'heartbeat') break;
      return 'Ok';
    case 'remove':
      if (outcome.$case !== 'remove') break;
      return `Ok: ${command.id} removed`;
    case 'keys': {
      if (outcome.$case !== 'keys') break;
      // One line per name in the load's format, then the count.
      const { entries } = outcome.value;
      return [...entries.map(({ name, value }) => `Ok: ${command.id} '${name}' ${value}`), `Ok: ${command.id} ${entries.length} names`].join('\n');
    }
    case 'delete':
      if (outcome.$case !== 'delete') break;
      return `Ok: ${command.id} '${command.name}' ${outcome.value.found ? 'deleted' : 'not found'}`;
  }
  return formatLocalError(mismatchMessage(command, outcome));
}

/** The line of a WatchKeys event: `Watch: <id> '<name>' = <value>` or `Watch: <id> '<name>' deleted`. */
export function formatKeyEvent(event: KeyEvent): string {
  return event.kind === 'delete' ? `Watch: ${event.id} '${event.name}' deleted` : `Watch: ${event.id} '${event.name}' = ${event.value}`;
}

/**
 * Whether the reply counts as a failure for the exit code: an error, a mismatched answer, or a
 * ping the node did not answer (in both formats, though `mai` prints that as `Ok: 0`).
 */
export function isFailure(command: RemoteCommand, outcome: Outcome): boolean {
  if (outcome.$case === 'error' || !answers(command, outcome)) return true;
  return outcome.$case === 'ping' && !outcome.value.available;
}

/** Whether `outcome` is the kind of result `command` asks for. */
export function answers(command: RemoteCommand, outcome: Outcome): boolean {
  return outcome.$case === command.kind;
}

/** The message for a result of the wrong kind (a gateway bug, but it must still print a line). */
export function mismatchMessage(command: RemoteCommand, outcome: Outcome): string {
  return `the gateway answered a ${command.kind} command with a ${outcome.$case} result`;
}

/** The gRPC status name of a code number, e.g. `NOT_FOUND` for 5. */
export function statusName(code: number): string {
  return status[code] ?? `CODE_${code}`;
}

function formatExec(command: ExecCommand, found: boolean, value: bigint, format: OutputFormat): string {
  const { id, name } = command;
  if (format === 'mai') {
    if (command.value !== undefined) return `Ok:${id}`;
    return found ? `Ok:${id}: ${value}` : `Ok:${id}: '${name}' not found`;
  }
  if (command.value !== undefined) return `Ok: ${id}`;
  return found ? `Ok: ${id} '${name}' ${value}` : `Ok: ${id} '${name}' not found`;
}

/** `code` is the proto's plain int32, typed as the gRPC status number it is. */
function formatError(command: RemoteCommand, code: status, message: string, format: OutputFormat): string {
  const seed = formatLocalError(message === '' ? statusName(code) : message);
  if (format === 'seed') return seed;
  switch (command.kind) {
    case 'create':
      if (code === status.ALREADY_EXISTS) return 'Error: Already exists';
      if (code === status.NOT_FOUND) return 'Error: Parent not found';
      if (code === status.UNAVAILABLE) return 'Error: Parent is unavailable';
      return seed;
    case 'exec':
      if (code === status.NOT_FOUND) return `Error:${command.id}: Not found`;
      if (code === status.UNAVAILABLE) return `Error:${command.id}: Node is unavailable`;
      return seed;
    case 'remove':
      if (code === status.NOT_FOUND) return 'Error: Not found';
      return seed;
    case 'ping':
      if (code === status.NOT_FOUND) return 'Error: Not found';
      /* The gateway answers an unreachable node with available = false, but should it ever use
         the status instead, the course's line for "did not answer" is still `Ok: 0`. */
      if (code === status.UNAVAILABLE) return 'Ok: 0';
      return seed;
    case 'heartbeat':
    case 'keys':
    case 'delete':
      return seed;
  }
}

/** Keeps a reply on one line and printable, whatever the gateway sent. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ');
}
