/**
 * @module `--json`: one JSON object per reply, one per line (JSON Lines), for scripts.
 *
 * Pure. Every object has these members, in this order:
 * - `line`: the 1-based number of the input line it answers (every line read counts, so skipped
 *   and invalid lines keep the numbering of the input file);
 * - `command`: `create`, `exec`, `ping`, `heartbeat`, `remove`, `tree`, `status` or `help`; absent for a
 *   line that did not parse (or a command that could not be sent: not connected);
 * - the command's arguments: `id` (create, exec, ping, remove), `name` (exec), `intervalMs` (heartbeat);
 * - `ok`: true when the command was carried out, false when it failed;
 * - when `ok` is true, the result:
 *   - create: `pid` (the new process), `parent` (where the tree placed it; `null` for the root);
 *   - exec: `found`, and `value` when found (the stored or loaded value);
 *   - ping: `available` (a node that exists but did not answer is `ok: true, available: false`,
 *     though it still makes the exit code 1, as in the text formats);
 *   - help: `text` (the help text, lines separated by `\n`);
 *   - tree: `topology` (the object `tree --json` prints, see `topology-view.ts`);
 *   - status: `nodes`, `depth`, `heartbeatIntervalMs`, `unavailable`, and `depthBound` (the AVL
 *     bound for that many nodes, or null when the tree is not balanced);
 * - when `ok` is false: `code` (the gRPC status name, e.g. `NOT_FOUND`; `INVALID_ARGUMENT` for a
 *   line the console refused itself) and `message` (the seed text without `Error: `).
 *
 * int64 values are JSON strings (`"value":"-9223372036854775808"`), because JSON numbers lose
 * precision beyond 2^53 in most parsers. Example:
 * `{"line":3,"command":"exec","id":8,"name":"X","ok":true,"found":true,"value":"16"}`.
 */
import { status } from '@grpc/grpc-js';
import type { TopologyResponse } from '../proto/gen/arbor/v1/arbor.js';
import type { Outcome, RemoteCommand, TopologyCommand } from './command.js';
import { answers, mismatchMessage, statusName } from './format.js';
import { statusCounts, topologyJson } from './topology-view.js';

/** The JSON line for the reply to `command`, read from input line `line`. */
export function formatJsonReply(line: number, command: RemoteCommand, outcome: Outcome): string {
  const head = { line, ...describe(command) };
  if (outcome.$case === 'error') {
    const { code, message, reason } = outcome.value;
    return JSON.stringify({ ...head, ok: false, code: statusName(code), message, ...(reason !== '' && { reason }) });
  }
  if (!answers(command, outcome)) {
    return JSON.stringify({ ...head, ok: false, code: 'INTERNAL', message: mismatchMessage(command, outcome) });
  }
  switch (outcome.$case) {
    case 'create':
      return JSON.stringify({ ...head, ok: true, pid: outcome.value.pid, parent: outcome.value.parent ?? null });
    case 'exec': {
      const { found, value } = outcome.value;
      return JSON.stringify(found ? { ...head, ok: true, found, value: String(value) } : { ...head, ok: true, found });
    }
    case 'ping':
      return JSON.stringify({ ...head, ok: true, available: outcome.value.available });
    case 'heartbeat':
    case 'remove':
    case 'event': // never: `answers()` refused it, as no command is answered by an event
      return JSON.stringify({ ...head, ok: true });
  }
}

/** The JSON line for an input line the console refused (it never reached the gateway). */
export function formatJsonLocalError(line: number, message: string, code = status.INVALID_ARGUMENT): string {
  return JSON.stringify({ line, ok: false, code: statusName(code), message });
}

/** The JSON line for `tree` or `status`. */
export function formatJsonTopology(line: number, command: TopologyCommand, topology: TopologyResponse): string {
  if (command.kind === 'status') return JSON.stringify({ line, command: 'status', ok: true, ...statusCounts(topology) });
  return JSON.stringify({ line, command: 'tree', ok: true, topology: topologyJson(topology) });
}

/** The JSON line for `help`. */
export function formatJsonHelp(line: number, text: string): string {
  return JSON.stringify({ line, command: 'help', ok: true, text });
}

function describe(command: RemoteCommand): Record<string, unknown> {
  switch (command.kind) {
    case 'create':
    case 'ping':
    case 'remove':
      return { command: command.kind, id: command.id };
    case 'exec':
      return { command: command.kind, id: command.id, name: command.name };
    case 'heartbeat':
      return { command: command.kind, intervalMs: command.intervalMs };
  }
}
