/**
 * @module The page's console: a line typed into the `command` input is parsed by the CLI's own
 * parser (`parse-line.ts`), run through the API, and answered in the CLI's `seed` format
 * (`format.ts`, `topology-view.ts`, `help.ts`), appended to the `role="log"` element. Nothing here
 * knows what a command means; this file only moves lines between the input, the API and the log.
 *
 * As at the interactive CLI, replies are printed as they arrive (a slow `exec` does not hold a
 * later `ping`), each under the line it answers; `tree` and `status` wait for the commands typed
 * before them, so they show what those did.
 *
 * Tab completes as at the CLI (`completion.ts`): one candidate is filled in, several are listed
 * below the input (and their common start filled in). Tab with nothing to complete (an empty
 * line, or no candidate) moves the focus on as anywhere else in the page, so the keyboard never
 * gets stuck in the console.
 */
import { completeLine } from '../completion.js';
import { formatLocalError, formatReply, isFailure } from '../format.js';
import { helpText } from '../help.js';
import { parseLine } from '../parse-line.js';
import { topologyText } from '../topology-view.js';
import { type Api, isUnauthenticated } from './api.js';

export interface ConsoleHooks {
  /** A command's reply says the token is missing or wrong. */
  onUnauthenticated(): void;
  /** A command may have changed the tree (create, remove, heartbeat, a store's key count): redraw. */
  onChange(): void;
}

const MAX_LOG_LINES = 500;
/** Lines Up and Down recall, as the CLI's history does at a terminal (this page keeps them in memory only). */
const MAX_HISTORY = 200;

export class WebConsole {
  private inFlight = new Set<Promise<unknown>>();
  private readonly history: string[] = [];
  /** Where Up/Down is in `history`; `history.length` is the line being typed. */
  private recalled = 0;

  constructor(
    private readonly api: Api,
    private readonly form: HTMLFormElement,
    private readonly input: HTMLInputElement,
    private readonly log: HTMLElement,
    private readonly completions: HTMLElement,
    private readonly hooks: ConsoleHooks,
  ) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const line = input.value;
      input.value = '';
      this.completions.textContent = '';
      if (line.trim() !== '' && this.history.at(-1) !== line) this.history.push(line);
      if (this.history.length > MAX_HISTORY) this.history.shift();
      this.recalled = this.history.length;
      this.submit(line);
    });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Tab' && !event.shiftKey && this.complete()) {
        event.preventDefault();
        return;
      }
      if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
      event.preventDefault();
      this.recalled = Math.max(0, Math.min(this.history.length, this.recalled + (event.key === 'ArrowUp' ? -1 : 1)));
      input.value = this.history[this.recalled] ?? '';
    });
  }

  /** Completes the word before the cursor; false when there is nothing to complete. */
  private complete(): boolean {
    const { input } = this;
    const end = input.selectionStart ?? input.value.length;
    if (input.value.trim() === '' || end !== input.value.length) return false;
    const [candidates, word] = completeLine(input.value);
    if (candidates.length === 0) return false;
    const common = candidates.reduce((prefix, c) => {
      let i = 0;
      while (i < prefix.length && prefix[i] === c[i]) i++;
      return prefix.slice(0, i);
    });
    const filled = candidates.length === 1 ? `${common} ` : common;
    input.value = input.value.slice(0, input.value.length - word.length) + filled;
    this.completions.textContent = candidates.length === 1 ? '' : candidates.join('  ');
    return true;
  }

  /** Runs one line as if typed. */
  submit(line: string): void {
    const parsed = parseLine(line);
    if (parsed.kind === 'skip') return;
    const entry = this.entry(line);
    const answer = (text: string, failed: boolean): void => this.answer(entry, text, failed);
    switch (parsed.kind) {
      case 'invalid':
        return answer(formatLocalError(parsed.message), true);
      case 'help':
        return answer(helpText(parsed.topic, 'web'), false);
      case 'quit':
        return answer('(nothing to quit here: close the page; the gateway keeps running)', false);
      case 'watch':
        return answer('(watch is for the arbor console: the page does not follow stores yet)', false);
      case 'tree':
      case 'status': {
        const before = [...this.inFlight];
        this.track(
          Promise.allSettled(before)
            .then(() => this.api.topology())
            .then(
              (topology) => answer(topologyText(parsed, topology), false),
              (error: unknown) => answer(formatLocalError(error instanceof Error ? error.message : String(error)), true),
            ),
        );
        return;
      }
      default:
        this.track(
          this.api.run(parsed).then((outcome) => {
            // The reason goes on an indented `why:` line, as at the CLI's terminal.
            const why = outcome.$case === 'error' ? outcome.value.reason : '';
            const text = formatReply(parsed, outcome, 'seed');
            answer(why === '' ? text : `${text}\n  why: ${why}`, isFailure(parsed, outcome));
            if (isUnauthenticated(outcome)) this.hooks.onUnauthenticated();
            // Everything but a ping or a load may change what is drawn (a store, the key count).
            if (parsed.kind !== 'ping' && !(parsed.kind === 'exec' && parsed.value === undefined)) this.hooks.onChange();
          }),
        );
    }
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  /** The echoed line, with a place for its reply right below it (replies may come back out of order). */
  private entry(line: string): HTMLElement {
    const entry = document.createElement('div');
    entry.className = 'entry';
    const echo = document.createElement('div');
    echo.className = 'echo';
    echo.textContent = `arbor> ${line.trim()}`;
    entry.append(echo);
    this.log.append(entry);
    while (this.log.children.length > MAX_LOG_LINES) this.log.firstElementChild?.remove();
    this.log.scrollTop = this.log.scrollHeight;
    return entry;
  }

  private answer(entry: HTMLElement, text: string, failed: boolean): void {
    const reply = document.createElement('pre');
    reply.className = failed ? 'reply error' : 'reply ok';
    reply.textContent = text;
    entry.append(reply);
    this.log.scrollTop = this.log.scrollHeight;
  }
}
