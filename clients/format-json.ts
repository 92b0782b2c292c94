/**
 * @module `--json`: one JSON object per reply, one per line (JSON Lines), for scripts.
 *
 * Pure. Every object has these members, in this order:
 * - `line`: the 1-based number of the input line it answers (every line read counts, so skipped
 *   and invalid lines keep the numbering of the input file);
 * - `command`: `create`, `exec`, `ping`, `heartbeat`, `remove`, `keys`, `delete` (typed `del`),
 *   `watch`, `tree`, `status` or `help`; absent for a
 *   line that did not parse (or a command that could not be sent: not connected);
 * - the command's arguments: `id` (create, exec, ping, remove, keys, delete, watch), `name` (exec,
 *   delete), `prefix` (keys, watch), `intervalMs` (heartbeat);
 * - `ok`: true when the command was carried out, false when it failed;
 * - when `ok` is true, the result:
 *   - create: `pid` (the new process), `parent` (where the tree placed it; `null` for the root);
 *   - exec: `found`, and `value` when found (the stored or loaded value);
 *   - ping: `available` (a node that exists but did not answer is `ok: true, available: false`,
 *     though it still makes the exit code 1, as in the text formats);
 *   - keys: one object per name first (`name`, `value`, no `ok`), then the last one with `ok` and
 *     `names` (how many);
 *   - delete: `found`;
 *   - watch: nothing is printed when it is in place; each event is an object with `name`, `kind`
 *     (`put` or `delete`) and, for a put, `value` (and no `ok`);
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
import type { KeyEvent, Topology } from './lib/types.js';
import type { Outcome, RemoteCommand, TopologyCommand, WatchCommand } from './command.js';
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
    case 'keys': {
      const { entries } = outcome.value;
      const names = entries.map(({ name, value }) => JSON.stringify({ ...head, name, value: String(value) }));
      return [...names, JSON.stringify({ ...head, ok: true, names: entries.length })].join('\n');
    }
    case 'delete':
      return JSON.stringify({ ...head, ok: true, found: outcome.value.found });
    case 'heartbeat':
    case 'remove':
    case 'event': // never: `answers()` refused it, as no command is answered by an event
      return JSON.stringify({ ...head, ok: true });
  }
}

/** The JSON line of a WatchKeys event of the `watch` read from input line `line`. */
export function formatJsonKeyEvent(line: number, event: KeyEvent): string {
  const put = event.kind === 'put';
  return JSON.stringify({ line, command: 'watch', id: event.id, name: event.name, kind: event.kind, ...(put && { value: String(event.value) }) });
}

/** The JSON line of a `watch` that failed. */
export function formatJsonWatchError(line: number, command: WatchCommand, code: number, message: string): string {
  return JSON.stringify({ line, command: 'watch', ...(command.id !== undefined && { id: command.id }), prefix: command.prefix, ok: false, code: statusName(code), message });
}

/** The JSON line for an input line the console refused (it never reached the gateway). */
export function formatJsonLocalError(line: number, message: string, code = status.INVALID_ARGUMENT): string {
  return JSON.stringify({ line, ok: false, code: statusName(code), message });
}

/** The JSON line for `tree` or `status`. */
export function formatJsonTopology(line: number, command: TopologyCommand, topology: Topology): string {
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
    case 'delete':
      return { command: command.kind, id: command.id, name: command.name };
    case 'keys':
      return { command: command.kind, id: command.id, prefix: command.prefix };
    case 'heartbeat':
      return { command: command.kind, intervalMs: command.intervalMs };
  }
}
