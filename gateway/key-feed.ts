/**
 * @module One WatchKeys subscriber, whatever the transport: the key events of the control that
 * match its node and prefix, through a bounded queue.
 *
 * The rules are Watch's (watch-feed.ts): a subscriber that falls `watchBuffer` events behind is
 * ended with RESOURCE_EXHAUSTED (never silently skipped) while the others continue; WatchKeys
 * streams count against the same MAX_WATCHERS as Watch streams; shutdown ends every feed.
 */
import { status } from '@grpc/grpc-js';
import type { KeyEvent } from '../control/index.js';
import type { GatewayContext } from './context.js';
import { MAX_WATCHERS } from './limits.js';
import type { FeedEnd } from './watch-feed.js';

/** Which events a subscriber wants: one node's (or every node's), names with this prefix. */
export interface KeyFilter {
  id: number | undefined;
  prefix: string;
}

export interface KeySink {
  /** Delivers one event; returns false when the sink is full (the feed waits for `resume()`). */
  write(event: KeyEvent): boolean;
  /** The feed is over; called once, never from inside the core's event dispatch. */
  end(how: FeedEnd): void;
}

export interface KeyFeedHandle {
  resume: () => void;
  close: () => void;
}

export function openKeyFeed(ctx: GatewayContext, filter: KeyFilter, sink: KeySink): KeyFeedHandle | { refused: { code: status; details: string } } {
  const { control, streams, watchBuffer, load } = ctx;
  if (load.watchers >= MAX_WATCHERS) {
    return { refused: { code: status.RESOURCE_EXHAUSTED, details: `too many Watch and WatchKeys subscribers (${MAX_WATCHERS})` } };
  }
  load.watchers++;
  const queue: KeyEvent[] = [];
  let blocked = false;
  let done = false;

  const flush = (): void => {
    while (!blocked && !done && queue.length > 0) blocked = !sink.write(queue.shift() as KeyEvent);
  };

  const close = (): void => {
    if (done) return;
    done = true;
    load.watchers--;
    unsubscribe();
    unregister();
  };

  const unsubscribe = control.subscribeKeys((event) => {
    if (done || (filter.id !== undefined && event.id !== filter.id) || !event.name.startsWith(filter.prefix)) return;
    if (queue.length >= watchBuffer) {
      close();
      // Not from inside the core's event dispatch: ending a stream runs transport code.
      setImmediate(() => sink.end({ problem: { code: status.RESOURCE_EXHAUSTED, details: `subscriber fell ${watchBuffer} events behind` } }));
      return;
    }
    queue.push(event);
    flush();
  });
  const unregister = streams.add(() => {
    close();
    sink.end({});
  });

  return {
    resume: () => {
      blocked = false;
      flush();
    },
    close,
  };
}
