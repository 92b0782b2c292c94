/**
 * @module The Watch stream: every availability event, to many subscribers at once.
 *
 * A slow subscriber never slows the core: each has a bounded queue, and one that falls
 * `watchBuffer` events behind is ended with RESOURCE_EXHAUSTED while the others continue.
 */
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import type { WatchRequest, WatchResponse } from '../proto/gen/arbor/v1/arbor.js';
import type { NodeEvent } from '../control/index.js';
import type { GatewayContext } from './context.js';
import { eventMessage } from './event-message.js';
import { MAX_WATCHERS } from './limits.js';

export function watch(ctx: GatewayContext, call: ServerWritableStream<WatchRequest, WatchResponse>): void {
  const { control, streams, watchBuffer, load } = ctx;
  if (load.watchers >= MAX_WATCHERS) {
    call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: `too many Watch subscribers (${MAX_WATCHERS})` });
    return;
  }
  load.watchers++;
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
    load.watchers--;
    unsubscribe();
    unregister();
  };

  const unsubscribe = control.subscribe((event) => {
    if (done) return;
    if (queue.length >= watchBuffer) {
      finish();
      // Not from inside the core's event dispatch: ending a stream runs grpc-js code.
      setImmediate(() => call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: `subscriber fell ${watchBuffer} events behind` }));
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
