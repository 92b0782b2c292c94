/**
 * @module The console's open `watch`es: their WatchKeys streams, and how a piped script ends
 * them without losing the events of its own commands.
 *
 * A watch's events come on a stream of their own, so the reply to a store and the store's event
 * may arrive in either order. When a piped script ends, every acknowledged store and delete of
 * the script that a watch matches is owed as an event on that watch: the watches stay open
 * until each has come (or CATCH_UP_MS passed), then close.
 */
import type { WatchCommand } from './command.js';
import type { GatewayCallError, GatewayPort, KeyStream } from './gateway-link.js';
import type { KeyEvent } from './lib/types.js';

/** The longest a piped script's end waits for the events its own commands owe. */
export const CATCH_UP_MS = 5000;

interface OpenWatch {
  readonly command: WatchCommand;
  readonly stream: KeyStream;
  /** Events owed by acknowledged commands of ours (by `eventKey`), with how many of each. */
  readonly owed: Map<string, number>;
}

const eventKey = (id: number, name: string, put: boolean, value: bigint): string => `${id} ${name} ${put ? `= ${value}` : 'deleted'}`;

export class KeyWatches {
  private readonly open = new Set<OpenWatch>();
  private waiters: (() => void)[] = [];

  constructor(private readonly gateway: GatewayPort) {}

  /**
   * Opens a watch; `event` prints one event, `failed` says the stream ended with an error.
   * Resolves once it is in place; rejects with the error when it could not be.
   */
  start(command: WatchCommand, event: (event: KeyEvent) => void, failed: (error: GatewayCallError) => void): Promise<void> {
    const owed = new Map<string, number>();
    const watch: OpenWatch = {
      command,
      owed,
      stream: this.gateway.watchKeys(
        { ...(command.id !== undefined && { id: command.id }), prefix: command.prefix },
        {
          event: (e) => {
            const key = eventKey(e.id, e.name, e.kind === 'put', e.value);
            const left = (owed.get(key) ?? 0) - 1;
            if (left > 0) owed.set(key, left);
            else owed.delete(key);
            event(e);
            this.changed();
          },
          end: (error) => {
            this.open.delete(watch);
            this.changed();
            if (error !== undefined) failed(error);
          },
        },
      ),
    };
    this.open.add(watch);
    return watch.stream.ready;
  }

  /** One of our stores (`value`) or deletes (`undefined`) was acknowledged: the watches it matches owe its event. */
  acknowledged(id: number, name: string, value: bigint | undefined): void {
    for (const watch of this.open) {
      const { command } = watch;
      if ((command.id !== undefined && command.id !== id) || !name.startsWith(command.prefix)) continue;
      const key = eventKey(id, name, value !== undefined, value ?? 0n);
      watch.owed.set(key, (watch.owed.get(key) ?? 0) + 1);
    }
  }

  /** Some watch is open. */
  get any(): boolean {
    return this.open.size > 0;
  }

  /** Closes every watch at once (Ctrl-C); true when one was open. */
  stopAll(): boolean {
    const had = this.open.size > 0;
    for (const watch of this.open) watch.stream.cancel();
    this.open.clear();
    this.changed();
    return had;
  }

  /** Waits until every open watch has the events our commands owe it (or `timeoutMs`), then closes them. */
  async finish(timeoutMs = CATCH_UP_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ([...this.open].some((w) => w.owed.size > 0) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.stopAll();
  }

  private changed(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
