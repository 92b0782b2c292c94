/**
 * @module Interactive mode: a prompt on a terminal, with history across runs and tab completion;
 * replies print as they arrive.
 *
 * A reply may arrive while the user is typing, so it is printed above the prompt: the input line
 * is cleared, the reply written, and the prompt redrawn with what was typed so far. Notices (the
 * gateway went away, came back) go the same way, to stderr.
 * Ctrl-D, and Ctrl-C on an empty line, end the session like `quit` (replies in flight are still
 * awaited); Ctrl-C on a half-typed line discards it; Ctrl-C while a `watch` runs stops it.
 */
import { clearLine, createInterface, cursorTo } from 'node:readline';
import { completeLine } from './completion.js';
import type { Dispatcher } from './dispatcher.js';
import { hasRoom, waitForRoom, type FlowSources } from './flow-control.js';
import { HISTORY_LINES, type HistoryFile } from './history.js';
import { MAX_LINE_CHARS } from './parse-line.js';

/** The prompt shown before each command. */
export const PROMPT = 'arbor> ';

/** The terminal the prompt and the user's typing use, and where notices go. */
export interface Terminal {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  notices: NodeJS.WritableStream;
  history?: HistoryFile;
  /** Tab completion (readline's callback form); by default, command words only. */
  complete?: (line: string, callback: (error: null, result: [string[], string]) => void) => void;
}

/** An interactive session's controls, for building its `Dispatcher`. */
export interface Prompter {
  /** Prints a reply above the prompt. */
  readonly print: (text: string) => void;
  /** Prints a notice (one `arbor: ...` line) to `notices`, above the prompt. */
  readonly notice: (text: string) => void;
}

/**
 * Runs the prompt until `quit`, Ctrl-C, Ctrl-D or `signal` aborts. Does not wait for the replies
 * in flight.
 *
 * @param makeDispatcher builds the dispatcher once the prompt exists (its replies go through `print`)
 * @param flowOf the flow sources, given the dispatcher
 */
export function runInteractive(
  terminal: Terminal,
  makeDispatcher: (prompter: Prompter) => Dispatcher,
  flowOf: (dispatcher: Dispatcher) => FlowSources,
  signal: AbortSignal,
): Promise<void> {
  const rl = createInterface({
    input: terminal.input,
    output: terminal.output,
    prompt: PROMPT,
    terminal: true,
    history: terminal.history?.load() ?? [],
    historySize: HISTORY_LINES,
    completer: terminal.complete ?? ((line: string) => completeLine(line)),
  });
  let closed = false;
  let quitTyped = false;
  const out = terminal.output;
  const above = (stream: NodeJS.WritableStream, text: string): void => {
    if (closed) {
      stream.write(`${text}\n`);
      return;
    }
    clearLine(out, 0);
    cursorTo(out, 0);
    stream.write(`${text}\n`);
    rl.prompt(true);
  };
  const dispatcher = makeDispatcher({
    print: (text) => above(out, text),
    notice: (text) => above(terminal.notices, text),
  });
  const flow = flowOf(dispatcher);
  return new Promise<void>((resolve) => {
    rl.on('line', (line: string) => {
      terminal.history?.add(line);
      /* A pasted megabyte arrives as one line here; the parser refuses it without looking. */
      const text = line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS + 1) : line;
      if (dispatcher.handleLine(text) === 'quit') {
        quitTyped = true;
        rl.close();
        return;
      }
      if (hasRoom(flow)) {
        rl.prompt();
        return;
      }
      rl.pause();
      void waitForRoom(flow, signal).then(() => {
        if (closed) return;
        rl.resume();
        rl.prompt();
      });
    });
    /* Ctrl-C discards a half-typed line (as shells do); on an empty line it quits. */
    rl.on('SIGINT', () => {
      if (dispatcher.watches.stopAll()) {
        out.write('^C\n');
        rl.prompt(true);
        return;
      }
      if (rl.line === '') {
        rl.close();
        return;
      }
      out.write('^C\n');
      rl.write(null, { ctrl: true, name: 'e' });
      rl.write(null, { ctrl: true, name: 'u' });
      rl.prompt();
    });
    rl.on('close', () => {
      /* Ctrl-C/Ctrl-D leave the cursor after the prompt; later output starts on a fresh line. */
      if (!quitTyped) out.write('\n');
      closed = true;
      terminal.history?.close();
      resolve();
    });
    const onAbort = (): void => rl.close();
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    rl.prompt();
  });
}
