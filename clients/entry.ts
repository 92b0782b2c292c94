/**
 * @module Running a program function as the process: exit code, flushed output, internal errors.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Exit code for a bug (an exception nobody expected): EX_SOFTWARE of sysexits.h. */
export const EXIT_INTERNAL = 70;

/**
 * Runs `program` and exits the process with the code it resolves with, once stdout and stderr
 * are flushed. Exiting explicitly, because a lingering handle (a gRPC channel timer, a stdin that
 * was never read) must not keep a finished program alive.
 */
export async function exitWith(name: string, program: () => Promise<number>): Promise<never> {
  let code: number;
  try {
    code = await program();
  } catch (error) {
    process.stderr.write(`${name}: internal error: ${(error as Error).stack ?? String(error)}\n`);
    code = EXIT_INTERNAL;
  }
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}

/** Whether the module at `moduleUrl` is the script node was started with (not an import). */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(moduleUrl);
  } catch {
    return false;
  }
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) resolve();
    else stream.write('', () => resolve());
  });
}
