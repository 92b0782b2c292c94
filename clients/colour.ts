/**
 * @module Colours for the console's reply lines: when to use them, and how. Pure.
 *
 * Colour is used only when the output is a terminal, `NO_COLOR` is not set (to any value, even
 * empty: https://no-color.org) and `TERM` is not `dumb`; and never with `--json`. So a script's
 * output to a file or pipe stays byte-exact. `Ok` lines are green, `Error` lines red, `Heartbit`
 * lines yellow, and the `✗` marks of `tree` red.
 */

const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const YELLOW = '\x1b[33m';
const RESET = '\x1b[0m';

/** Whether replies written to `stream` may be coloured, given the environment. */
export function colourEnabled(
  stream: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  return stream.isTTY === true && env['NO_COLOR'] === undefined && env['TERM'] !== 'dumb';
}

/** `text` (one reply: a line, or several for help and tree) with its lines coloured. */
export function colourReply(text: string): string {
  return text.split('\n').map(colourLine).join('\n');
}

function colourLine(line: string): string {
  if (/^Ok(?![A-Za-z0-9])/.test(line)) return `${GREEN}${line}${RESET}`;
  if (/^Error(?![A-Za-z0-9])/.test(line)) return `${RED}${line}${RESET}`;
  if (line.startsWith('Heartbit:')) return `${YELLOW}${line}${RESET}`;
  return line.replace(/✗ [a-z]+/g, (mark) => `${RED}${mark}${RESET}`);
}
