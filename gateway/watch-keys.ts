/**
 * @module The WatchKeys stream over grpc-js: acknowledged stores and deletes as they happen. The
 * queueing and limits are the feed's (`key-feed.ts`); this file validates the request, writes to
 * the grpc-js stream and follows its backpressure. Its response headers are sent as soon as the
 * subscription is in place, as Watch's are.
 */
import { Metadata, status, type ServerWritableStream } from '@grpc/grpc-js';
import { type KeyEvent as ApiKeyEvent, KeyEventKind, type WatchKeysRequest } from '../proto/gen/arbor/v1/arbor.js';
import { checkNodeId, checkPrefix } from '../proto/limits.js';
import type { KeyEvent } from '../control/index.js';
import type { GatewayContext } from './context.js';
import { openKeyFeed } from './key-feed.js';

export function keyEventMessage(event: KeyEvent): ApiKeyEvent {
  return {
    id: event.id,
    name: event.name,
    kind: event.kind === 'put' ? KeyEventKind.KEY_EVENT_KIND_PUT : KeyEventKind.KEY_EVENT_KIND_DELETE,
    value: event.value,
  };
}

export function watchKeys(ctx: GatewayContext, call: ServerWritableStream<WatchKeysRequest, ApiKeyEvent>): void {
  const { id, prefix } = call.request;
  const problem = (id === undefined ? undefined : checkNodeId(id)) ?? checkPrefix(prefix);
  if (problem !== undefined) {
    call.emit('error', { code: status.INVALID_ARGUMENT, details: problem });
    return;
  }
  const feed = openKeyFeed(ctx, { id, prefix }, {
    write: (event) => call.write(keyEventMessage(event)),
    end: ({ problem: ended }) => (ended === undefined ? call.end() : call.emit('error', ended)),
  });
  if ('refused' in feed) {
    call.emit('error', feed.refused);
    return;
  }
  call.sendMetadata(new Metadata());
  call.on('drain', feed.resume);
  call.on('cancelled', feed.close);
  call.on('error', feed.close);
  call.on('close', feed.close);
}
