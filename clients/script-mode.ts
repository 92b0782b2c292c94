/**
 * @module Script mode: commands piped in are all sent without waiting for replies.
 *
 * Input is read chunk by chunk (not with readline, whose `pause()` still emits the lines already
 * buffered) so that reading really stops while `flow-control` says there is no room; the loop
 * simply does not ask for the next chunk. Lines are capped by `LineSplitter`, so a huge line
 * costs no memory.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from './dispatcher.js';
import { hasRoom, waitForRoom, type FlowSources } from './flow-control.js';
import { LineSplitter } from './line-splitter.js';
import { MAX_LINE_CHARS } from './parse-line.js';

/** Reading the input failed (e.g. EIO); the console reports it and exits 2. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** Why reading stopped. */
export type ScriptEnd = 'end-of-input' | 'quit' | 'aborted';

/**
 * Feeds every line of `input` to `dispatcher`, pausing while there is no room, until the input ends,
 * a line says `quit`, or `signal` aborts. Stops reading `input` (destroying it) before returning.
 * Does not wait for the replies in flight.
 *
 * @throws InputError when reading `input` fails
 */
export async function runScript(
  input: Readable,
  dispatcher: Dispatcher,
  flow: FlowSources,
  signal: AbortSignal,
): Promise<ScriptEnd> {
  input.setEncoding('utf8');
  const splitter = new LineSplitter(MAX_LINE_CHARS);
  const chunks = input[Symbol.asyncIterator]();
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) resolve('aborted');
    signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  try {
    for (;;) {
      const next = await Promise.race([chunks.next(), aborted]).catch((error: unknown) => {
        throw new InputError(`cannot read the input: ${(error as Error).message}`, { cause: error });
      });
      if (next === 'aborted') return 'aborted';
      if (next.done === true) break;
      for (const line of splitter.push(String(next.value))) {
        if (dispatcher.handleLine(line) === 'quit') return 'quit';
        if (!hasRoom(flow)) await waitForRoom(flow, signal);
        if (signal.aborted) return 'aborted';
      }
    }
    const last = splitter.end();
    if (last !== undefined && dispatcher.handleLine(last) === 'quit') return 'quit';
    return 'end-of-input';
  } finally {
    /* Destroy first: `return()` on an async iterator waits for a pending `next()`, which after an
       abort may wait for input that never comes. Destroying settles it; then nothing more is read. */
    input.destroy();
    await chunks.return?.().catch(() => {});
  }
}
