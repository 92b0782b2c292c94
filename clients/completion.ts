/**
 * @module Tab completion at the interactive prompt. Pure.
 *
 * Completes the command word (`keys`, `del` and `watch` included), the topic of `help`, and the
 * option of `tree`; nothing else (ids, names and values are the user's). The shape is readline's completer: the candidates, and the
 * piece of the line they would replace.
 */
import { COMMAND_WORDS } from './command.js';

/** The candidates for the end of `line`, and the word they complete. */
export function completeLine(line: string): [string[], string] {
  const words = line.trimStart().split(/\s+/);
  const current = words.at(-1) ?? '';
  const pick = (candidates: readonly string[]): [string[], string] => [
    candidates.filter((candidate) => candidate.startsWith(current)),
    current,
  ];
  if (words.length === 1) return pick(COMMAND_WORDS);
  if (words.length === 2 && words[0] === 'help') return pick(COMMAND_WORDS);
  if (words.length === 2 && words[0] === 'tree') return pick(['--json']);
  return [[], current];
}
