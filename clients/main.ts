/**
 * @module The `arbor` program: `runCli` on the process's own streams, then exit.
 *
 * `bin/arbor.js` calls `main()`; `node dist/clients/main.js` (or its bundle, dist/bundle/arbor.js) runs it directly too.
 */
import { runCli } from './cli.js';
import { exitWith, isEntryPoint } from './entry.js';

export { runCli, runConsole, type CliIo } from './cli.js';

/** Runs `arbor` with `argv` (default: the process's arguments) and exits with its exit code. */
export function main(argv: readonly string[] = process.argv.slice(2)): Promise<never> {
  return exitWith('arbor', () => runCli(argv));
}

if (isEntryPoint(import.meta.url)) void main();
