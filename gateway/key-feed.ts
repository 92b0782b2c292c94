/**
 * @module One WatchKeys subscriber, whatever the transport: the key events of the control that
 * match its node and prefix, through a bounded queue.
 *
 * The rules are Watch's (watch-feed.ts, `openFeed`): a subscriber that falls `watchBuffer` events behind is
 * ended with RESOURCE_EXHAUSTED (never silently skipped) while the others continue; WatchKeys
 * streams count against the same MAX_WATCHERS as Watch streams; shutdown ends every feed.
 */
import type { KeyEvent } from '../control/index.js';
import type { GatewayContext } from './context.js';
import { openFeed, type Refused, type Sink, type WatchFeed } from './watch-feed.js';

/** Which events a subscriber wants: one node's (or every node's), names with this prefix. */
export interface KeyFilter {
  id: number | undefined;
  prefix: string;
}

export type KeySink = Sink<KeyEvent>;
export type KeyFeedHandle = WatchFeed;

export function openKeyFeed(ctx: GatewayContext, filter: KeyFilter, sink: KeySink): KeyFeedHandle | Refused {
  return openFeed(ctx, sink, 'Watch and WatchKeys', () => [], (listener) =>
    ctx.control.subscribeKeys((event) => {
      if ((filter.id === undefined || event.id === filter.id) && event.name.startsWith(filter.prefix)) listener(event);
    }),
  );
}
