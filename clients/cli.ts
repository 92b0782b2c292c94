/**
 * @module The `arbor` console: command line → connect → interactive or script mode → exit code.
 *
 * `runCli` is the whole program minus `process.exit`, so `start.ts` (which runs a gateway first)
 * and tests can reuse it with their own streams. Exit codes (issue 2): 0 when every command
 * succeeded (always 0 for an interactive session that ended normally), 1 when any line or reply
 * was an error (script mode), 2 for a usage error or an unreachable or lost gateway.
 */
import { usageErrorLine } from '../lib/args.js';
import { parseArgs, USAGE_TEXT, UsageError } from './args.js';
import { EXIT_OK, EXIT_USAGE, processIo, type CliControl, type CliIo } from './console-io.js';
import { runDump, runRestore } from './backup.js';
import { runConsole } from './run-console.js';
import { versionLine } from './version.js';

export { EXIT_FAILED, EXIT_OK, EXIT_USAGE, processIo, type CliControl, type CliIo } from './console-io.js';
export { runConsole } from './run-console.js';

/**
 * Runs the `arbor` command line (`argv` without `node` and the script) and resolves with the exit
 * code; writes usage and connection errors to `io.stderr` as one `arbor: ...` line. Never calls
 * `process.exit`.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo = processIo(),
  control: CliControl = {},
): Promise<number> {
  let request;
  try {
    request = parseArgs(argv, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`${usageErrorLine('arbor', error.message)}\n`);
    return EXIT_USAGE;
  }
  switch (request.kind) {
    case 'help':
      io.stdout.write(`${USAGE_TEXT}\n`);
      return EXIT_OK;
    case 'version':
      io.stdout.write(`${versionLine('arbor')}\n`);
      return EXIT_OK;
    case 'run':
      return runConsole(request.options, io, control);
    case 'dump':
      return runDump(request.options, io);
    case 'restore':
      return runRestore(request.options, io);
  }
}
