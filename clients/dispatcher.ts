/**
 * @module The console's core: one input line in, its reply line out, with any number in flight.
 *
 * Shared by the interactive and the script mode, which differ only in where lines come from and
 * how output reaches the terminal. Each line is parsed; a command for the gateway is sent at once
 * (never waiting for earlier replies) and its reply is printed through `ReplyOrder`, in arrival
 * or input order. Local answers (bad lines, help) take their place in the same order.
 * `tree` and `status` are fences: they ask the gateway's `Topology` once every command before them
 * has been answered, and commands after them are sent once they are answered, so they show
 * exactly the tree the lines before them left (`create 8`, `tree`, `create 9` shows 8 alone).
 */
import type { KeyEntry } from '../proto/gen/arbor/v1/arbor.js';
import { MAX_KEYS_LIMIT } from '../proto/limits.js';
import { type KeysCommand, toCommandBody, type Outcome, type RemoteCommand, type TopologyCommand, type WatchCommand } from './command.js';
import { formatEvent, formatJsonEvent, RestartNotes } from './format-event.js';
import { formatJsonHelp, formatJsonKeyEvent, formatJsonLocalError, formatJsonReply, formatJsonTopology, formatJsonWatchError } from './format-json.js';
import { formatKeyEvent, formatLocalError, formatReply, isFailure, type OutputFormat } from './format.js';
import { GatewayCallError, type GatewayPort } from './gateway-link.js';
import { helpText } from './help.js';
import { KeyWatches } from './key-watches.js';
import { parseLine } from './parse-line.js';
import type { ProgressCounts } from './progress.js';
import { ArborError } from './lib/errors.js';
import type { NodeEvent, Topology } from './lib/types.js';
import { ReplyOrder } from './reply-order.js';
import { topologyText } from './topology-view.js';

/** How replies are printed. */
export interface DispatcherOptions {
  format: OutputFormat;
  json: boolean;
  ordered: boolean;
  /**
   * Add an indented `why: ...` line under an error that carries a reason (e.g. which node
   * does not answer), and tell a restart as `node 11 restarted (why), now pid 4242`. Only for
   * a person at a terminal: script output stays byte-exact.
   */
  explain?: boolean;
}

/** What the caller does after a line: keep reading, or stop (`quit`). */
export type LineVerdict = 'continue' | 'quit';

/** Dispatches input lines to the gateway and prints the replies through `emit`. */
export class Dispatcher {
  private lineNumber = 0;
  private failed = false;
  private lost: ArborError | undefined;
  private readonly order: ReplyOrder;
  private changeWaiters: (() => void)[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Pending while a `tree` or `status` is: later commands are sent after it. */
  private fence: Promise<void> | undefined;
  private readonly tally: ProgressCounts = { sent: 0, answered: 0, createsSent: 0, createsAnswered: 0 };
  /** The open `watch`es. */
  readonly watches: KeyWatches;
  /** At a prompt (`explain`): restarts are told as one line of their own. */
  private readonly restarts: RestartNotes | undefined;

  /**
   * @param gateway where commands go
   * @param options the output format and order
   * @param emit prints one reply (a line, or several for help and tree), without the final newline
   * @param onChange called whenever a command is sent or answered (for a progress display)
   */
  constructor(
    private readonly gateway: GatewayPort,
    private readonly options: DispatcherOptions,
    private readonly emit: (text: string) => void,
    private readonly onChange: () => void = () => {},
  ) {
    this.order = new ReplyOrder(options.ordered, emit);
    this.watches = new KeyWatches(gateway);
    this.restarts = options.explain === true ? new RestartNotes() : undefined;
  }

  /** Prints an availability event at once: events are not replies, so `--ordered` does not hold them. */
  printEvent(event: NodeEvent): void {
    const text = this.options.json ? formatJsonEvent(event) : this.restarts !== undefined ? this.restarts.line(event) : formatEvent(event);
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
      case 'tree':
      case 'status': {
        const fence: Promise<void> = this.track(line, parsed, this.askTopology()).then(() => {
          if (this.fence === fence) this.fence = undefined;
        });
        this.fence = fence;
        return 'continue';
      }
      case 'watch': {
        // A fence too: the commands after it are sent once it is in place, so it sees their changes.
        const fence: Promise<void> = this.startWatch(line, parsed, this.fence).then(() => {
          if (this.fence === fence) this.fence = undefined;
        });
        this.fence = fence;
        return 'continue';
      }
      default: {
        const send = (): Promise<Outcome> => (parsed.kind === 'keys' ? this.listKeys(parsed) : this.gateway.send(toCommandBody(parsed)));
        const fence = this.fence;
        void this.track(line, parsed, fence === undefined ? send() : fence.then(send));
        return 'continue';
      }
    }
  }

  /** True once any line was invalid or any reply was a failure. */
  get anyFailed(): boolean {
    return this.failed;
  }

  /** The session's failure, once replies were lost with it. */
  get lostSession(): ArborError | undefined {
    return this.lost;
  }

  /** Commands sent and answered so far (lost ones count as answered). */
  get counts(): Readonly<ProgressCounts> {
    return this.tally;
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

  /** Every page of a `keys`, as one outcome (the first failure, if any). */
  private async listKeys(command: KeysCommand): Promise<Outcome> {
    const entries: KeyEntry[] = [];
    let startAfter = '';
    for (;;) {
      const page = await this.gateway.send({ $case: 'keys', value: { id: command.id, prefix: command.prefix, limit: MAX_KEYS_LIMIT, startAfter } });
      if (page.$case !== 'keys') return page;
      for (const entry of page.value.entries) entries.push(entry);
      const last = page.value.entries.at(-1);
      if (!page.value.more || last === undefined) return { $case: 'keys', value: { entries, more: false, revision: page.value.revision } };
      startAfter = last.name;
    }
  }

  /** Opens a watch once `after` (an earlier fence) is done; its slot prints nothing once it is in place, or its error. */
  private async startWatch(line: number, command: WatchCommand, after: Promise<void> | undefined): Promise<void> {
    const slot = this.order.reserve();
    await after;
    const failedText = (code: number, message: string): string =>
      this.options.json ? formatJsonWatchError(line, command, code, message) : formatLocalError(message);
    try {
      await this.watches.start(
        command,
        (event) => this.emit(this.options.json ? formatJsonKeyEvent(line, event) : formatKeyEvent(event)),
        (error) => {
          this.failed = true;
          this.emit(failedText(error.code, error.message));
        },
      );
      this.order.fill(slot, undefined);
    } catch (error) {
      this.failed = true;
      const { code, message } = error as GatewayCallError;
      this.order.fill(slot, failedText(code, message));
    }
    this.changed();
  }

  /** `Topology`, once everything sent before has been answered. */
  private async askTopology(): Promise<Topology> {
    await Promise.allSettled([...this.inFlight]);
    return this.gateway.topology();
  }

  /** Reserves the reply's place, and fills it when `answer` settles; resolves once it is filled. */
  private track(
    line: number,
    command: RemoteCommand | TopologyCommand,
    answer: Promise<Outcome | Topology>,
  ): Promise<void> {
    const slot = this.order.reserve();
    const creates = command.kind === 'create' ? 1 : 0;
    this.tally.sent += 1;
    this.tally.createsSent += creates;
    // One promise per reply, not a chain of then, catch and finally: a piped script makes thousands.
    const done = (fill: () => void): void => {
      try {
        fill();
      } catch {
        // the formatters do not throw; were one to, the rest must go on
      }
      this.inFlight.delete(settled);
      this.tally.answered += 1;
      this.tally.createsAnswered += creates;
      this.changed();
    };
    const settled: Promise<void> = answer.then(
      (result) => done(() => this.order.fill(slot, this.replyText(line, command, result))),
      (error: unknown) => done(() => this.order.fill(slot, this.failureText(line, error))),
    );
    this.inFlight.add(settled);
    this.onChange();
    return settled;
  }

  private replyText(line: number, command: RemoteCommand | TopologyCommand, result: Outcome | Topology): string {
    if (command.kind === 'tree' || command.kind === 'status') {
      const topology = result as Topology;
      return this.options.json ? formatJsonTopology(line, command, topology) : topologyText(command, topology);
    }
    const outcome = result as Outcome;
    if (isFailure(command, outcome)) this.failed = true;
    if (command.kind === 'exec' && command.value !== undefined && outcome.$case === 'exec') this.watches.acknowledged(command.id, command.name, outcome.value.value);
    if (command.kind === 'delete' && outcome.$case === 'delete' && outcome.value.found) this.watches.acknowledged(command.id, command.name, undefined);
    if (this.options.json) return formatJsonReply(line, command, outcome);
    const text = formatReply(command, outcome, this.options.format);
    const why = outcome.$case === 'error' && this.options.explain === true ? outcome.value.reason : '';
    return why === '' ? text : `${text}\n  why: ${why}`;
  }

  /** The line for a call that got no answer: none for a lost session (the console says why once). */
  private failureText(line: number, error: unknown): string | undefined {
    this.failed = true;
    if (error instanceof GatewayCallError) {
      return this.options.json ? formatJsonLocalError(line, error.message, error.code) : formatLocalError(error.message);
    }
    this.lost ??= error instanceof ArborError ? error : new ArborError('internal', String(error));
    return undefined;
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
    this.onChange();
  }
}
