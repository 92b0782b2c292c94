/**
 * @module A server stream of the API (Watch; later the dictionary's key watch) as an async
 * iterable that ends when the caller says so.
 *
 * The call is opened at once, so that `ready` (the gateway's response headers, sent once the
 * subscription is in place: nothing after them is missed) can be awaited before iterating. The
 * iteration ends quietly on `break` (or `return()`), when the signal aborts and when `timeoutMs`
 * passes: those are the caller's own ends. Any other end is an `ArborError`: the call failed
 * (`resource-exhausted` for a subscriber that fell too far behind, `unavailable` for a lost
 * gateway) or the gateway ended the stream, which it does only when it shuts down.
 */
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { ArborError, fromServiceError, invalidArgument } from './errors.js';
import { checkCallOptions } from './operations.js';
import type { CallOptions } from './types.js';

/** A stream of events: iterate it once with `for await`. */
export interface EventStream<T> extends AsyncIterable<T> {
  /** Resolves once the gateway has the subscription in place; rejects as the iteration would. */
  readonly ready: Promise<void>;
  /** Ends the stream (as `break` does); the iteration, if any, finishes. */
  close(): void;
}

/**
 * Iterates `open()`'s stream, each message turned into zero or one item by `toItem`.
 *
 * @param open starts the call (given no deadline: the time limit is the caller's, see above)
 */
export function eventStream<Message, Item>(
  open: () => ClientReadableStream<Message>,
  toItem: (message: Message) => Item | undefined,
  options: CallOptions,
): EventStream<Item> {
  const problem = checkCallOptions(options);
  if (problem !== undefined) return failed(invalidArgument(problem));
  const { signal, timeoutMs } = options;
  if (signal?.aborted === true) return failed(undefined);
  const call = open();
  let endedByCaller = false;
  let failure: ArborError | undefined;
  let iterated = false;

  const stop = (): void => {
    if (!endedByCaller) {
      endedByCaller = true;
      call.cancel();
    }
    signal?.removeEventListener('abort', stop);
    clearTimeout(timer);
  };
  signal?.addEventListener('abort', stop, { once: true });
  const timer = timeoutMs === undefined ? undefined : setTimeout(stop, timeoutMs);

  /* The listener goes on at once: an 'error' nobody listens to crashes the process. */
  call.on('error', (error: ServiceError) => {
    if (!endedByCaller) failure ??= fromServiceError(error, undefined);
  });
  const ready = new Promise<void>((resolve, reject) => {
    call.once('metadata', () => resolve());
    call.once('error', () => (endedByCaller ? resolve() : reject(failure ?? new ArborError('internal', 'the stream failed'))));
    call.once('end', () => resolve());
  });
  ready.catch(() => {});

  async function* iterate(): AsyncGenerator<Item, void, undefined> {
    let end: ArborError | undefined;
    try {
      for await (const message of call as AsyncIterable<Message>) {
        const item = toItem(message);
        if (item !== undefined) yield item;
      }
      if (!endedByCaller) end = new ArborError('unavailable', 'the gateway ended the stream (it is shutting down)');
    } catch (error) {
      if (!endedByCaller) end = failure ?? fromServiceError(error as ServiceError, undefined);
    } finally {
      stop();
    }
    if (end !== undefined) throw end;
  }

  return {
    ready,
    close: stop,
    [Symbol.asyncIterator]() {
      if (iterated) throw new ArborError('invalid-argument', 'a stream is iterated once: call the method again for another');
      iterated = true;
      return iterate();
    },
  };
}

/** A stream that never opened: it rejects with `error`, or ends at once when `error` is undefined (an aborted signal). */
export function failed<Item>(error: ArborError | undefined): EventStream<Item> {
  const ready = error === undefined ? Promise.resolve() : Promise.reject(error);
  ready.catch(() => {});
  return {
    ready,
    close: () => {},
    [Symbol.asyncIterator]: () => ({
      next: () => (error === undefined ? Promise.resolve({ done: true, value: undefined }) : Promise.reject(error)),
    }),
  };
}
