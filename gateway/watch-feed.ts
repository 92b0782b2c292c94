/**
 * @module One Watch subscriber, whatever the transport: grpc-js (`watch.ts`) and Connect
 * (`connect-service.ts`) both stream events through a feed, so the rules live here once.
 *
 * A slow subscriber never slows the core: each feed has a bounded queue, and one that falls
 * `watchBuffer` events behind is ended with RESOURCE_EXHAUSTED while the others continue. At most
 * MAX_WATCHERS feeds are open at once. Shutdown (`ctx.streams.closeAll()`) ends every feed.
 */
import { status } from '@grpc/grpc-js';
import type { NodeEvent } from '../control/index.js';
import type { GatewayContext } from './context.js';
import { MAX_WATCHERS } from './limits.js';

/** Why a feed ended: shutdown (no problem) or a limit, as a gRPC code and message. */
export interface FeedEnd {
  problem?: { code: status; details: string };
}

/** Where a feed delivers: the transport's side of one stream. */
export interface Sink<E> {
  /** Delivers one event; returns false when the sink is full (the feed waits for `resume()`). */
  write(event: E): boolean;
  /** The feed is over; called once, never from inside the core's event dispatch. */
  end(how: FeedEnd): void;
}

export type FeedSink = Sink<NodeEvent>;

export interface WatchFeed {
  /** The sink has room (again, or for the first time: the past events wait for it): deliver what is queued. */
  resume: () => void;
  /** The subscriber went away (cancelled, closed): stop, without calling `end`. */
  close: () => void;
}

export type Refused = { refused: { code: status; details: string } };

/**
 * Opens a feed into `sink`, or says why not (too many subscribers). `backlog` past events (as many
 * as the gateway kept, and fewer than the subscriber may fall behind) are queued first.
 */
export function openWatchFeed(ctx: GatewayContext, sink: FeedSink, backlog = 0): WatchFeed | Refused {
  return openFeed(ctx, sink, 'Watch', () => ctx.backlog.recent(Math.min(backlog, ctx.watchBuffer - 1)), (listener) => ctx.control.subscribe(listener));
}

/**
 * The rules of every subscriber stream (Watch, WatchKeys): counted against MAX_WATCHERS, a queue
 * bounded by `watchBuffer`, ended on shutdown. `past` gives the events queued before the live ones;
 * it is read in the same turn as `subscribe`, so no event falls between them (event-backlog.ts).
 */
export function openFeed<E>(ctx: GatewayContext, sink: Sink<E>, kinds: string, past: () => E[], subscribe: (listener: (event: E) => void) => () => void): WatchFeed | Refused {
  const { streams, watchBuffer, load } = ctx;
  if (load.watchers >= MAX_WATCHERS) {
    return { refused: { code: status.RESOURCE_EXHAUSTED, details: `too many ${kinds} subscribers (${MAX_WATCHERS})` } };
  }
  load.watchers++;
  const queue: E[] = past();
  let blocked = false;
  let done = false;

  const flush = (): void => {
    while (!blocked && !done && queue.length > 0) blocked = !sink.write(queue.shift() as E);
  };

  const close = (): void => {
    if (done) return;
    done = true;
    load.watchers--;
    unsubscribe();
    unregister();
  };

  const unsubscribe = subscribe((event) => {
    if (done) return;
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
