/**
 * @module Tab completion at the interactive prompt. Pure.
 *
 * Completes the command word (`keys`, `del` and `watch` included), the topic of `help`, the
 * option of `tree`, a node id after `exec`, `ping` and `remove`, and a name after `exec <id>`
 * (from what the console knows of the tree and of that node's names; see completion-source.ts).
 * Values are the user's. The shape is readline's completer: the candidates, and the piece of the
 * line they would replace.
 */
import { COMMAND_WORDS } from './command.js';

/** What the console knows of the gateway's ids and names, for completion. */
export interface KnownNames {
  readonly ids: readonly number[];
  /** The names of node `id` known so far (maybe only those starting with what was typed). */
  names(id: number): readonly string[];
}

const NOTHING_KNOWN: KnownNames = { ids: [], names: () => [] };

/** Commands whose first argument is a node id. */
export const ID_COMMANDS: ReadonlySet<string> = new Set(['exec', 'ping', 'remove']);

/** The candidates for the end of `line`, and the word they complete. */
export function completeLine(line: string, known: KnownNames = NOTHING_KNOWN): [string[], string] {
  const words = line.trimStart().split(/\s+/);
  const current = words.at(-1) ?? '';
  const pick = (candidates: readonly string[]): [string[], string] => [
    candidates.filter((candidate) => candidate.startsWith(current)),
    current,
  ];
  const command = words[0] ?? '';
  if (words.length === 1) return pick(COMMAND_WORDS);
  if (words.length === 2 && command === 'help') return pick(COMMAND_WORDS);
  if (words.length === 2 && command === 'tree') return pick(['--json']);
  if (words.length === 2 && ID_COMMANDS.has(command)) return pick(known.ids.map(String));
  const id = nodeIdOf(words[1]);
  if (words.length === 3 && command === 'exec' && id !== undefined) return pick(known.names(id));
  return [[], current];
}

/** What to look up for `line` before completing it: the tree, or one node's names. */
export function lookupFor(line: string): { kind: 'ids' } | { kind: 'names'; id: number; prefix: string } | undefined {
  const words = line.trimStart().split(/\s+/);
  const command = words[0] ?? '';
  if (words.length === 2 && ID_COMMANDS.has(command)) return { kind: 'ids' };
  const id = nodeIdOf(words[1]);
  if (words.length === 3 && command === 'exec' && id !== undefined) return { kind: 'names', id, prefix: words[2] ?? '' };
  return undefined;
}

function nodeIdOf(word: string | undefined): number | undefined {
  return word !== undefined && /^\d{1,10}$/.test(word) ? Number(word) : undefined;
}
