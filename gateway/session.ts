/**
 * @module The Session stream: many commands in flight, each answered as soon as it finishes.
 *
 * A SessionRequest carries up to SESSION_MAX_BATCH commands; results that are ready within one
 * event-loop turn leave together in one SessionResponse, so under load gRPC's per-message cost
 * is paid per batch, and a lone command waits at most one turn.
 *
 * Backpressure both ways: reading pauses while the session has SESSION_MAX_IN_FLIGHT commands
 * running or while the client is not reading our replies, so a fast sender is slowed, never
 * refused, and nothing is buffered without bound.
 *
 * Availability events are delivered on every session as they happen, with tag 0.
 *
 * Results that are ready in the same turn leave in the order their commands came in: a store
 * and a load of the same node answered by one wave of replies otherwise left in the order their
 * promise chains happened to settle (a store's is longer: it also orders the key events), and a
 * piped script printed the load's `Ok: 8 'X' 16` before the store's `Ok: 8`. Across turns, a
 * result leaves when it is ready, as before (commands to different nodes are not ordered).
 */
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { SessionCommand, SessionRequest, SessionResponse, SessionResult } from '../proto/gen/arbor/v1/arbor.js';
import { cancelled } from '../control/index.js';
import { run } from './commands.js';
import type { GatewayContext } from './context.js';
import { eventMessage } from './event-message.js';
import { SESSION_MAX_BATCH, SESSION_MAX_IN_FLIGHT } from './limits.js';
import { toStatus } from './status.js';

/**
 * About how many bytes one SessionResponse may carry before the next result starts another: a
 * keys page may be megabytes (10,000 names of 255 bytes), and a client's receive limit is 4 MiB
 * by default, so two pages must not share one message. A single result larger than this (one
 * full page, at most about 2.7 MB) goes alone.
 */
const RESPONSE_BYTES = 1024 * 1024;

/** The bytes a result adds, roughly: only keys pages are large. */
const resultBytes = (result: SessionResult): number =>
  result.result?.$case === 'keys' ? result.result.value.entries.reduce((sum, e) => sum + e.name.length + 12, 16) : 64;

/** The results in messages of at most SESSION_MAX_BATCH results and about RESPONSE_BYTES. */
function batches(results: SessionResult[]): SessionResult[][] {
  if (results.length <= SESSION_MAX_BATCH && !results.some((r) => r.result?.$case === 'keys')) return [results];
  const out: SessionResult[][] = [];
  let batch: SessionResult[] = [];
  let bytes = 0;
  for (const result of results) {
    const size = resultBytes(result);
    if (batch.length > 0 && (batch.length === SESSION_MAX_BATCH || bytes + size > RESPONSE_BYTES)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(result);
    bytes += size;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/** `results` sorted by `order` (stable: equal numbers keep their places). Pure. */
export function inArrivalOrder(results: readonly SessionResult[], order: readonly number[]): SessionResult[] {
  return results
    .map((_, i) => i)
    .sort((a, b) => (order[a] as number) - (order[b] as number) || a - b)
    .map((i) => results[i] as SessionResult);
}

const refused = (tag: bigint, message: string): SessionResult => ({
  tag,
  result: { $case: 'error', value: { code: status.INVALID_ARGUMENT, message, reason: '' } },
});

export function session(ctx: GatewayContext, call: ServerDuplexStream<SessionRequest, SessionResponse>): void {
  const { control, streams } = ctx;
  let inFlight = 0;
  let inputEnded = false;
  let finished = false;
  let writable = true;
  let outbox: SessionResult[] = [];
  /** The arrival number of each outbox result's command (events: the number of the next command). */
  let outboxOrder: number[] = [];
  let outboxSorted = true;
  let received = 0;
  let flushScheduled = false;

  const adjustFlow = (): void => {
    if (finished) return;
    if (inFlight >= SESSION_MAX_IN_FLIGHT || !writable) call.pause();
    else call.resume();
  };

  const flush = (): void => {
    flushScheduled = false;
    let results = outbox;
    if (!outboxSorted) results = inArrivalOrder(results, outboxOrder);
    outbox = [];
    outboxOrder = [];
    outboxSorted = true;
    if (finished) return;
    for (const batch of batches(results)) {
      if (!call.write({ results: batch }) && writable) {
        writable = false;
        adjustFlow();
      }
    }
  };

  const reply = (result: SessionResult, order = received + 1): void => {
    if (finished) return;
    if (outboxOrder.length > 0 && order < (outboxOrder[outboxOrder.length - 1] as number)) outboxSorted = false;
    outbox.push(result);
    outboxOrder.push(order);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  const stopEvents = control.subscribe((event) => reply({ tag: 0n, result: { $case: 'event', value: eventMessage(event) } }));
  // Its commands end with the stream: a client that goes away leaves nothing waiting or in flight.
  const gone = new AbortController();
  /** Every command's call options: one object for the stream, not one per command. */
  const callOptions = { signal: gone.signal };

  const abandon = (): void => {
    finished = true;
    gone.abort(cancelled());
    stopEvents();
    unregister();
  };

  const finishIfDone = (): void => {
    if (inputEnded && inFlight === 0 && !finished) {
      flush();
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

  const settled = (): void => {
    inFlight--;
    adjustFlow();
    finishIfDone();
  };

  const runCommand = ({ tag, command }: SessionCommand): void => {
    if (tag === 0n) return reply(refused(0n, 'tag must be non-zero'));
    inFlight++;
    const order = ++received;
    const done = ctx.metrics.start(`Session/${command?.$case ?? 'none'}`);
    // No deadline of its own: each command gets the control's request timeout.
    run(control, command, callOptions).then(
      (result) => {
        done(status.OK);
        reply({ tag, result }, order);
        settled();
      },
      (error: unknown) => {
        const { code, details, reason } = toStatus(error, ctx.log);
        done(code);
        reply({ tag, result: { $case: 'error', value: { code, message: details, reason } } }, order);
        settled();
      },
    );
  };

  call.on('drain', () => {
    writable = true;
    adjustFlow();
  });

  call.on('data', ({ commands }: SessionRequest) => {
    if (inputEnded) return;
    if (commands.length === 0) return reply(refused(0n, 'the SessionRequest has no commands'));
    if (commands.length > SESSION_MAX_BATCH) {
      const problem = `the SessionRequest has ${commands.length} commands: at most ${SESSION_MAX_BATCH} per message`;
      for (const { tag } of commands) reply(refused(tag, problem));
      return;
    }
    for (const command of commands) runCommand(command);
    adjustFlow();
  });

  call.on('end', () => {
    inputEnded = true;
    finishIfDone();
  });

  call.on('cancelled', abandon);
  call.on('error', abandon);
}
