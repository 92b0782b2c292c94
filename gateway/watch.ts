/**
 * @module The Watch stream: every availability event, to many subscribers at once.
 *
 * A slow subscriber never slows the core: each has a bounded queue, and one that falls
 * WATCH_BUFFER events behind is ended with RESOURCE_EXHAUSTED while the others continue.
 */
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import type { WatchRequest, WatchResponse } from '../proto/gen/arbor/v1/arbor.js';
import type { NodeEvent } from '../control/index.js';
import type { GatewayContext } from './context.js';
import { eventMessage } from './event-message.js';

export const WATCH_BUFFER = 1024;

export function watch({ control, streams }: GatewayContext, call: ServerWritableStream<WatchRequest, WatchResponse>): void {
  const queue: NodeEvent[] = [];
  let blocked = false;
  let done = false;

  const flush = (): void => {
    while (!blocked && !done && queue.length > 0) {
      blocked = !call.write({ event: eventMessage(queue.shift() as NodeEvent) });
    }
  };

  const finish = (): void => {
    if (done) return;
    done = true;
    unsubscribe();
    unregister();
  };

  const unsubscribe = control.subscribe((event) => {
    if (done) return;
    if (queue.length >= WATCH_BUFFER) {
      finish();
      call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: `subscriber fell ${WATCH_BUFFER} events behind` });
      return;
    }
    queue.push(event);
    flush();
  });
  const unregister = streams.add(() => {
    finish();
    call.end();
  });

  call.on('drain', () => {
    blocked = false;
    flush();
  });
  call.on('cancelled', finish);
  call.on('error', finish);
  call.on('close', finish);
}
