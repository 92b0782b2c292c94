/**
 * @module The console's commands and their outcomes, and how they map onto a `Session` stream.
 *
 * A `Command` is what one input line asks for (see `parse-line.ts`); an `Outcome` is what the
 * gateway answered, or a local error in the same shape, so the formatters treat both alike.
 * This is the only file that builds the proto's `SessionRequest` oneof: adding a command to the
 * proto means adding a case here and in the formatters.
 */
import { status } from '@grpc/grpc-js';
import type { SessionCommand, SessionResult } from '../proto/gen/arbor/v1/arbor.js';

/** `create <id> [<parent>] [on <host>]`; `parent` is absent when none was given (or `-1`), `host` when none was named. */
export interface CreateCommand {
  kind: 'create';
  id: number;
  parent?: number;
  host?: string;
}

/** `exec <id> <name> [<value>]`: a store when `value` is present, else a load. */
export interface ExecCommand {
  kind: 'exec';
  id: number;
  name: string;
  value?: bigint;
}

/** `ping <id>`. */
export interface PingCommand {
  kind: 'ping';
  id: number;
}

/** `heartbeat <time>` (or `heartbit <time>`), time in milliseconds; 0 turns heartbeats off. */
export interface HeartbeatCommand {
  kind: 'heartbeat';
  intervalMs: number;
}

/** `remove <id>`: take node `<id>` out of the tree (its process and data are gone). */
export interface RemoveCommand {
  kind: 'remove';
  id: number;
}

/** `keys <id> [<prefix>]`: every name of node `<id>` (that starts with `<prefix>`), with its value; the console pages by itself. */
export interface KeysCommand {
  kind: 'keys';
  id: number;
  prefix: string;
}

/** `del <id> <name>`: delete `<name>` from node `<id>`. */
export interface DeleteCommand {
  kind: 'delete';
  id: number;
  name: string;
}

/** A command the gateway answers. */
export type RemoteCommand = CreateCommand | ExecCommand | PingCommand | HeartbeatCommand | RemoveCommand | KeysCommand | DeleteCommand;

/**
 * `watch [<id>] [<prefix>]`: print every acknowledged store and delete (of node `<id>`, or of
 * every node; of names starting with `<prefix>`) until Ctrl-C (interactive) or the input's end.
 */
export interface WatchCommand {
  kind: 'watch';
  id?: number;
  prefix: string;
}

/** `tree [--json]`: draw the search tree (or print it as one JSON object). */
export interface TreeCommand {
  kind: 'tree';
  json: boolean;
}

/** `status`: one line of counts about the tree. */
export interface StatusCommand {
  kind: 'status';
}

/** A command answered from the gateway's `Topology` RPC (not sent on the session). */
export type TopologyCommand = TreeCommand | StatusCommand;

/** A command the console answers itself. */
export type LocalCommand = { kind: 'help'; topic?: HelpTopic } | { kind: 'quit' };

/** Everything a valid, non-empty line can ask for. */
export type Command = RemoteCommand | TopologyCommand | WatchCommand | LocalCommand;

/** The command words, in the order the help and the error messages list them. */
export const COMMAND_WORDS = ['create', 'exec', 'ping', 'heartbeat', 'remove', 'keys', 'del', 'watch', 'tree', 'status', 'help', 'quit'] as const;

/** What `help <topic>` accepts: a command word (`heartbit` is folded into `heartbeat`). */
export type HelpTopic = (typeof COMMAND_WORDS)[number];

/**
 * The result of one command: the `SessionResult` result itself, so that a command added to
 * the proto (e.g. `heartbeat`) needs no new type here. A local failure uses the `error` case.
 */
export type Outcome = NonNullable<SessionResult['result']>;

/** The `error` case of an `Outcome`. */
export type ErrorOutcome = Extract<Outcome, { $case: 'error' }>;

/** The body of a `SessionCommand` (without its tag). */
export type CommandBody = NonNullable<SessionCommand['command']>;

/** Builds an error outcome, e.g. for a line that never reached the gateway. */
export function errorOutcome(code: status, message: string): ErrorOutcome {
  return { $case: 'error', value: { code, message, reason: '' } };
}

/** Maps a command to the body of a `SessionCommand`. */
export function toCommandBody(command: RemoteCommand): CommandBody {
  switch (command.kind) {
    case 'create':
      return { $case: 'create', value: { id: command.id, parent: command.parent, host: command.host } };
    case 'exec':
      return { $case: 'exec', value: { id: command.id, name: command.name, value: command.value } };
    case 'ping':
      return { $case: 'ping', value: { id: command.id } };
    case 'heartbeat':
      return { $case: 'heartbeat', value: { intervalMs: command.intervalMs } };
    case 'remove':
      return { $case: 'remove', value: { id: command.id } };
    case 'keys':
      return { $case: 'keys', value: { id: command.id, prefix: command.prefix, limit: 0, startAfter: '' } };
    case 'delete':
      return { $case: 'delete', value: { id: command.id, name: command.name } };
  }
}
