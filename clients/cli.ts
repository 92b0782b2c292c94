/**
 * @module The `arbor` console: command line → connect → interactive or script mode → exit code.
 *
 * `runCli` is the whole program minus `process.exit`, so `start.ts` (which runs a gateway first)
 * and tests can reuse it with their own streams. Exit codes (issue 2): 0 when every command
 * succeeded (always 0 for an interactive session that ended normally), 1 when any line or reply
 * was an error (script mode), 2 for a usage error or an unreachable or lost gateway.
 */
import type { Readable } from 'node:stream';
import type { ArborServiceClient } from '../proto/gen/arbor/v1/arbor.js';
import { parseArgs, USAGE_TEXT, UsageError, type CliOptions } from './args.js';
import { connect, ConnectError } from './connect.js';
import { Dispatcher } from './dispatcher.js';
import { ALWAYS_OPEN, type FlowSources, type Outlet } from './flow-control.js';
import { runInteractive } from './interactive-mode.js';
import { BatchedWriter } from './output.js';
import { InputError, runScript } from './script-mode.js';
import { SessionClient, type SessionClosedError } from './session-client.js';
import { packageVersion } from './version.js';

/** Exit codes of the console. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The streams and environment the console uses (the process's own by default). */
export interface CliIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
}

/** How an embedding program (`start.ts`) steers a running console. */
export interface CliControl {
  /** Aborting it is like typing `quit`: stop reading, await the replies in flight, close. */
  quit?: AbortSignal;
}

/** The process's stdin, stdout, stderr and environment. */
export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

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
    io.stderr.write(`arbor: ${error.message} (see arbor --help)\n`);
    return EXIT_USAGE;
  }
  switch (request.kind) {
    case 'help':
      io.stdout.write(`${USAGE_TEXT}\n`);
      return EXIT_OK;
    case 'version':
      io.stdout.write(`${packageVersion()}\n`);
      return EXIT_OK;
    case 'run':
      return runConsole(request.options, io, control);
  }
}

/**
 * Connects to `options.target` and runs the console on `io` until the input ends or says `quit`,
 * then waits for every reply in flight and closes the session. Resolves with the exit code.
 */
export async function runConsole(options: CliOptions, io: CliIo, control: CliControl = {}): Promise<number> {
  let client: ArborServiceClient;
  try {
    client = await connect(options.target);
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    io.stderr.write(`arbor: ${error.message}\n`);
    return EXIT_USAGE;
  }

  const stop = new AbortController();
  let dispatcher: Dispatcher | undefined;
  let ending = false;
  let lost: SessionClosedError | undefined;
  let outputError: Error | undefined;
  const session = new SessionClient(client.session(), options.target, {
    onUnmatched: (response) => {
      if (response.tag === 0n && response.result?.$case === 'event') dispatcher?.printEvent(response.result.value);
      else io.stderr.write(`arbor: ignored a reply with unknown tag ${response.tag}\n`);
    },
    onClosed: (error) => {
      /* Closed by us: at the end, or cancelled because stdout failed (reported as that). */
      if (ending || outputError !== undefined) return;
      lost = error;
      stop.abort();
    },
  });
  const writer = new BatchedWriter(io.stdout, (error) => {
    outputError = error;
    stop.abort();
    session.cancel();
  });
  control.quit?.addEventListener('abort', () => stop.abort(), { once: true });
  if (control.quit?.aborted === true) stop.abort();
  const flowOf = (dispatcher: Dispatcher, output: Outlet): FlowSources => ({ session, output, dispatcher });

  const interactive = io.stdin.isTTY === true;
  try {
    if (interactive) {
      /* Replies go straight to a terminal stdout (above the prompt); to a file or pipe, batched. */
      const direct = io.stdout.isTTY === true;
      await runInteractive(
        { input: io.stdin, output: direct ? io.stdout : io.stderr },
        (prompter) =>
          (dispatcher = new Dispatcher(session, options, direct ? prompter.print : (text) => writer.writeLine(text))),
        (made) => flowOf(made, direct ? ALWAYS_OPEN : writer),
        stop.signal,
      );
    } else {
      dispatcher = new Dispatcher(session, options, (text) => writer.writeLine(text));
      await runScript(io.stdin, dispatcher, flowOf(dispatcher, writer), stop.signal);
    }
    await dispatcher?.whenIdle();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    io.stderr.write(`arbor: ${error.message}\n`);
    return EXIT_USAGE;
  } finally {
    ending = true;
    await session.end();
    client.close();
    await writer.flushAll();
    writer.detach();
  }

  if (lost !== undefined) {
    io.stderr.write(`arbor: ${lost.message}\n`);
    return EXIT_USAGE;
  }
  if (outputError !== undefined) {
    /* EPIPE means the reader left (`arbor < script | head`): nothing to say to anyone. */
    if ((outputError as NodeJS.ErrnoException).code !== 'EPIPE') {
      io.stderr.write(`arbor: cannot write the output: ${outputError.message}\n`);
    }
    return EXIT_FAILED;
  }
  if (interactive) return EXIT_OK;
  return dispatcher?.anyFailed === true ? EXIT_FAILED : EXIT_OK;
}
