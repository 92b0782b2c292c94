/**
 * @module The console's core: one input line in, its reply line out, with any number in flight.
 *
 * Shared by the interactive and the script mode, which differ only in where lines come from and
 * how output reaches the terminal. Each line is parsed; a command for the gateway is sent at once
 * (never waiting for earlier replies) and its reply is printed through `ReplyOrder`, in arrival
 * or input order. Local answers (bad lines, help) take their place in the same order.
 */
import type { NodeEvent } from '../proto/gen/arbor/v1/arbor.js';
import { toSessionCommand, type Outcome, type RemoteCommand } from './command.js';
import { formatEvent, formatJsonEvent } from './format-event.js';
import { formatJsonHelp, formatJsonLocalError, formatJsonReply } from './format-json.js';
import { formatLocalError, formatReply, isFailure, type OutputFormat } from './format.js';
import { helpText } from './help.js';
import { parseLine } from './parse-line.js';
import { ReplyOrder } from './reply-order.js';
import { SessionClosedError, type SessionClient } from './session-client.js';

/** How replies are printed. */
export interface DispatcherOptions {
  format: OutputFormat;
  json: boolean;
  ordered: boolean;
}

/** What the caller does after a line: keep reading, or stop (`quit`). */
export type LineVerdict = 'continue' | 'quit';

/** Dispatches input lines to a session and prints the replies through `emit`. */
export class Dispatcher {
  private lineNumber = 0;
  private failed = false;
  private lost: SessionClosedError | undefined;
  private readonly order: ReplyOrder;
  private changeWaiters: (() => void)[] = [];

  /**
   * @param session the gateway session commands go to
   * @param options the output format and order
   * @param emit prints one reply (a line, or several for help), without the final newline
   */
  constructor(
    private readonly session: SessionClient,
    private readonly options: DispatcherOptions,
    private readonly emit: (text: string) => void,
  ) {
    this.order = new ReplyOrder(options.ordered, emit);
  }

  /** Prints an availability event at once: events are not replies, so `--ordered` does not hold them. */
  printEvent(event: NodeEvent): void {
    const text = this.options.json ? formatJsonEvent(event) : formatEvent(event);
    if (text !== undefined) this.emit(text);
  }

  /** Handles the next input line. Never throws; bad lines print their error. */
  handleLine(text: string): LineVerdict {
    this.lineNumber += 1;
    const line = this.lineNumber;
    const parsed = parseLine(text);
    switch (parsed.kind) {
      case 'skip':
        return 'continue';
      case 'quit':
        return 'quit';
      case 'invalid':
        this.failed = true;
        this.printNow(this.options.json ? formatJsonLocalError(line, parsed.message) : formatLocalError(parsed.message));
        return 'continue';
      case 'help': {
        const text = helpText(parsed.topic);
        this.printNow(this.options.json ? formatJsonHelp(line, text) : text);
        return 'continue';
      }
      default:
        this.dispatch(line, parsed);
        return 'continue';
    }
  }

  /** True once any line was invalid or any reply was a failure. */
  get anyFailed(): boolean {
    return this.failed;
  }

  /** The session's failure, once replies were lost with it. */
  get lostSession(): SessionClosedError | undefined {
    return this.lost;
  }

  /** Replies not printed yet (in flight, or held back for order): what bounds memory. */
  get backlog(): number {
    return this.order.backlog;
  }

  /** Resolves once `backlog` is below `limit`. */
  async whenBacklogBelow(limit: number): Promise<void> {
    while (this.order.backlog >= limit) await this.nextChange();
  }

  /** Resolves once every reply in flight has arrived (or was lost) and was printed. */
  async whenIdle(): Promise<void> {
    while (this.order.backlog > 0) await this.nextChange();
  }

  private dispatch(line: number, command: RemoteCommand): void {
    const slot = this.order.reserve();
    this.session.send(toSessionCommand(command)).then(
      (outcome) => this.complete(slot, line, command, outcome),
      (error: unknown) => {
        this.lost ??= error instanceof SessionClosedError ? error : new SessionClosedError(String(error));
        this.failed = true;
        this.order.fill(slot, undefined);
        this.changed();
      },
    );
  }

  private complete(slot: number, line: number, command: RemoteCommand, outcome: Outcome): void {
    if (isFailure(command, outcome)) this.failed = true;
    const text = this.options.json
      ? formatJsonReply(line, command, outcome)
      : formatReply(command, outcome, this.options.format);
    this.order.fill(slot, text);
    this.changed();
  }

  private printNow(text: string): void {
    this.order.fill(this.order.reserve(), text);
    this.changed();
  }

  private nextChange(): Promise<void> {
    return new Promise((resolve) => this.changeWaiters.push(resolve));
  }

  private changed(): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
