/**
 * @module The Session stream: many commands in flight, each answered as soon as it finishes.
 *
 * Backpressure both ways: reading pauses while the session has SESSION_MAX_IN_FLIGHT commands
 * running or while the client is not reading our replies, so a fast sender is slowed, never
 * refused, and nothing is buffered without bound.
 *
 * Availability events are delivered on every session as they happen, with tag 0.
 */
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { SessionRequest, SessionResponse } from '../proto/gen/arbor/v1/arbor.js';
import { run } from './commands.js';
import type { GatewayContext } from './context.js';
import { eventMessage } from './event-message.js';
import { SESSION_MAX_IN_FLIGHT } from './limits.js';
import { toStatus } from './status.js';


export function session(ctx: GatewayContext, call: ServerDuplexStream<SessionRequest, SessionResponse>): void {
  const { control, streams } = ctx;
  let inFlight = 0;
  let inputEnded = false;
  let finished = false;
  let writable = true;

  const adjustFlow = (): void => {
    if (finished) return;
    if (inFlight >= SESSION_MAX_IN_FLIGHT || !writable) call.pause();
    else call.resume();
  };

  const reply = (response: SessionResponse): void => {
    if (finished) return;
    if (!call.write(response) && writable) {
      writable = false;
      adjustFlow();
    }
  };

  const stopEvents = control.subscribe((event) => reply({ tag: 0n, result: { $case: 'event', value: eventMessage(event) } }));

  const abandon = (): void => {
    finished = true;
    stopEvents();
    unregister();
  };

  const finishIfDone = (): void => {
    if (inputEnded && inFlight === 0 && !finished) {
      abandon();
      call.end();
    }
  };

  // At shutdown: take no more commands, answer those in flight, then end.
  const unregister = streams.add(() => {
    inputEnded = true;
    call.pause();
    finishIfDone();
  });

  call.on('drain', () => {
    writable = true;
    adjustFlow();
  });

  call.on('data', (req: SessionRequest) => {
    if (inputEnded) return;
    if (req.tag === 0n) {
      reply({ tag: 0n, result: { $case: 'error', value: { code: status.INVALID_ARGUMENT, message: 'tag must be non-zero', reason: '' } } });
      return;
    }
    inFlight++;
    adjustFlow();
    const done = ctx.metrics.start(`Session/${req.command?.$case ?? 'none'}`);
    run(control, req.command, {})
      .then(
        (result) => {
          done(status.OK);
          reply({ tag: req.tag, result });
        },
        (error: unknown) => {
          const { code, details, reason } = toStatus(error, ctx.log);
          done(code);
          reply({ tag: req.tag, result: { $case: 'error', value: { code, message: details, reason } } });
        },
      )
      .finally(() => {
        inFlight--;
        adjustFlow();
        finishIfDone();
      });
  });

  call.on('end', () => {
    inputEnded = true;
    finishIfDone();
  });

  call.on('cancelled', abandon);
  call.on('error', abandon);
}
