/**
 * @module The Watch stream over grpc-js: every availability event, to many subscribers at once.
 * The queueing and limits are the transport-neutral feed's (`watch-feed.ts`); this file only
 * writes to the grpc-js stream and follows its backpressure (`write` → false, then `drain`).
 * Its response headers are sent as soon as the subscription is in place.
 */
import { Metadata, type ServerWritableStream } from '@grpc/grpc-js';
import type { WatchRequest, WatchResponse } from '../proto/gen/arbor/v1/arbor.js';
import type { GatewayContext } from './context.js';
import { eventMessage } from './event-message.js';
import { openWatchFeed } from './watch-feed.js';

export function watch(ctx: GatewayContext, call: ServerWritableStream<WatchRequest, WatchResponse>): void {
  const feed = openWatchFeed(ctx, {
    write: (event) => call.write({ event: eventMessage(event) }),
    end: ({ problem }) => (problem === undefined ? call.end() : call.emit('error', problem)),
  }, call.request.backlog);
  if ('refused' in feed) {
    call.emit('error', feed.refused);
    return;
  }
  // The response headers go out now, not with the first event: a client that waits for them
  // knows it is subscribed, and misses no event from then on.
  call.sendMetadata(new Metadata());
  // Then the past events asked for, queued when the feed opened.
  feed.resume();
  call.on('drain', feed.resume);
  call.on('cancelled', feed.close);
  call.on('error', feed.close);
  call.on('close', feed.close);
}
