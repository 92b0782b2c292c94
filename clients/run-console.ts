/**
 * @module The console proper: connect, run the interactive or the script mode, close, exit code.
 *
 * Interactive (stdin is a terminal): a prompt with history and completion; a lost gateway is
 * announced once and reconnected to while the user keeps typing (commands meanwhile get
 * `Error: not connected ...`); exit code 0, or 2 after a refusal no retry cures (a wrong token).
 * Script (anything else): every line is sent without waiting, progress shows on a terminal
 * stderr, a lost gateway ends the run with exit 2, and any failed line or reply makes it 1.
 * One-shot (a command on the command line): that one line, run as a script is; stdin is not read.
 */
import { homedir } from 'node:os';
import { Readable } from 'node:stream';
import type { CliOptions } from './args.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliControl, type CliIo } from './console-io.js';
import { colourEnabled, colourReply } from './colour.js';
import { CompletionSource } from './completion-source.js';
import { connect, ConnectError } from './connect.js';
import { Dispatcher } from './dispatcher.js';
import { ALWAYS_OPEN } from './flow-control.js';
import { GatewayLink } from './gateway-link.js';
import { HistoryFile, historyPath } from './history.js';
import { runInteractive } from './interactive-mode.js';
import { BatchedWriter } from './output.js';
import { ProgressMeter, progressEnabled, type ProgressCounts } from './progress.js';
import { InputError, runScript } from './script-mode.js';
import type { ArborClient } from './lib/client.js';
import type { ArborError } from './lib/errors.js';

const NO_COUNTS: ProgressCounts = { sent: 0, answered: 0, createsSent: 0, createsAnswered: 0 };

/**
 * Connects to `options.target` and runs the console on `io` until the input ends or says `quit`,
 * then waits for every reply in flight and closes the session. Resolves with the exit code.
 */
export async function runConsole(options: CliOptions, io: CliIo, control: CliControl = {}): Promise<number> {
  const { target } = options;
  let client: ArborClient;
  try {
    client = await connect(target, { tlsCa: options.tlsCa, token: options.token });
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    io.stderr.write(`arbor: ${error.message}\n`);
    return EXIT_USAGE;
  }

  const oneShot = options.command !== undefined;
  const interactive = !oneShot && io.stdin.isTTY === true;
  const stop = new AbortController();
  let dispatcher: Dispatcher | undefined;
  let lost: ArborError | undefined;
  let outputError: Error | undefined;
  const meter = progressEnabled(io.stderr, interactive, io.env)
    ? new ProgressMeter(io.stderr, () => dispatcher?.counts ?? NO_COUNTS)
    : undefined;
  /* One `arbor: ...` line on stderr; at the prompt, printed above it (see interactive-mode). */
  let say = (text: string): void => {
    meter?.clear();
    io.stderr.write(`${text}\n`);
  };
  const link = new GatewayLink(
    client,
    {
      onEvent: (event) => dispatcher?.printEvent(event),
      onStray: (tag) => say(`arbor: ignored a reply with unknown tag ${tag}`),
      onLost: (error, retrying) => {
        if (outputError !== undefined) return;
        if (retrying) {
          say(`arbor: lost the gateway at ${target} (${error.reason}); reconnecting...`);
        } else {
          lost = error;
          stop.abort();
        }
      },
      onReconnected: () => say(`arbor: reconnected to the gateway at ${target}`),
    },
    interactive,
  );
  control.notices?.attach((text) => say(text));
  const writer = new BatchedWriter(
    io.stdout,
    (error) => {
      outputError = error;
      stop.abort();
      link.cancel();
    },
    /* A progress line on the terminal the replies go to is erased before them (then redrawn). */
    io.stdout.isTTY === true ? meter?.clear : undefined,
  );
  control.quit?.addEventListener('abort', () => stop.abort(), { once: true });
  if (control.quit?.aborted === true) stop.abort();
  const colour = !options.json && colourEnabled(io.stdout, io.env);
  const paint = (sink: (text: string) => void) => (colour ? (text: string) => sink(colourReply(text)) : sink);
  const toWriter = (text: string): void => writer.writeLine(text);

  try {
    if (interactive) {
      /* Replies go straight to a terminal stdout (above the prompt); to a file or pipe, batched. */
      const direct = io.stdout.isTTY === true;
      const history = new HistoryFile(historyPath(io.env, io.env['HOME'] ?? homedir()));
      await runInteractive(
        { input: io.stdin, output: direct ? io.stdout : io.stderr, notices: io.stderr, history, complete: new CompletionSource(link).complete },
        (prompter) => {
          say = prompter.notice;
          return (dispatcher = new Dispatcher(link, { ...options, explain: direct }, paint(direct ? prompter.print : toWriter)));
        },
        (made) => ({ session: link, output: direct ? ALWAYS_OPEN : writer, dispatcher: made }),
        stop.signal,
      );
    } else {
      dispatcher = new Dispatcher(link, options, paint(toWriter), meter?.note);
      const input = oneShot ? Readable.from([`${options.command}\n`]) : io.stdin;
      await runScript(input, dispatcher, { session: link, output: writer, dispatcher }, stop.signal);
    }
    await dispatcher?.whenIdle();
    // A piped `watch` lasts until the input's end, once it has the events of the script's own changes.
    await dispatcher?.watches.finish(interactive || stop.signal.aborted ? 0 : undefined);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    say(`arbor: ${error.message}`);
    return EXIT_USAGE;
  } finally {
    meter?.stop();
    await link.close();
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
