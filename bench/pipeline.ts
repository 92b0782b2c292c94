/**
 * @module Pipelined load over one Session-shaped bidi stream: keep `window` commands in flight,
 * sending the next as each reply arrives, until a count or a time is reached and every reply
 * is in. Used for arbor's Session and for the grpc-js echo stream, so both run the same code.
 *
 * Commands that become due together (the first window; one per result of a response) leave in
 * one SessionRequest of up to `batch` commands, as a client with work queued would send them.
 * The echo baseline uses batch 1: the issue defines it as 1,024 messages in flight.
 */
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { SessionCommand, SessionRequest, SessionResponse } from '../proto/gen/arbor/v1/arbor.js';
import { LatencyRecorder, type Throughput, throughput } from './stats.js';

export type SessionStream = ClientDuplexStream<SessionRequest, SessionResponse>;
export type Command = NonNullable<SessionCommand['command']>;

export interface PipelineLimit {
  /** Stop sending after this many commands. */
  count?: number;
  /** Stop sending after this long. */
  durationMs?: number;
  /** Most commands per SessionRequest (default 1024, the gateway's limit). */
  batch?: number;
}

/** Send-time ring, indexed by tag: large enough that no reply is that far behind its peers. */
const RING = 1 << 20;

/** Tags keep increasing across calls on the same stream, so a late reply never matches a new tag. */
const nextTags = new WeakMap<SessionStream, bigint>();

export function pipelined(
  stream: SessionStream,
  command: (i: number) => Command,
  window: number,
  limit: PipelineLimit,
): Promise<Throughput> {
  const count = limit.count ?? Number.POSITIVE_INFINITY;
  const sentAt = new Float64Array(RING);
  const latencies = new LatencyRecorder();
  const firstTag = nextTags.get(stream) ?? 1n;
  let sent = 0;
  let received = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const end = start + (limit.durationMs ?? Number.POSITIVE_INFINITY);
  let last = start;

  const batch = limit.batch ?? 1024;
  let due: SessionCommand[] = [];
  return new Promise<Throughput>((resolve, reject) => {
    const queue = (): void => {
      const tag = firstTag + BigInt(sent);
      sentAt[Number(tag) & (RING - 1)] = performance.now();
      due.push({ tag, command: command(sent) });
      sent++;
      if (due.length >= batch) send();
    };
    const send = (): void => {
      if (due.length === 0) return;
      stream.write({ commands: due });
      due = [];
    };
    const stopped = (): boolean => sent >= count || performance.now() >= end;
    const finish = (): void => {
      stream.off('data', onData);
      stream.off('error', onError);
      nextTags.set(stream, firstTag + BigInt(sent));
      resolve(throughput(received - errors, errors, (last - start) / 1000, latencies.summary(), firstError));
    };
    const onData = (res: SessionResponse): void => {
      last = performance.now();
      for (const { tag, result } of res.results) {
        if (tag < firstTag) continue; // an event (tag 0), or a reply to an earlier run
        received++;
        if (result?.$case === 'error') {
          errors++;
          firstError ??= result.value.message;
        } else {
          latencies.add(last - (sentAt[Number(tag) & (RING - 1)] as number));
        }
        if (!stopped()) queue();
      }
      send();
      if (stopped() && received === sent) finish();
    };
    const onError = (error: Error): void => {
      stream.off('data', onData);
      reject(error);
    };
    stream.on('data', onData);
    stream.on('error', onError);
    while (sent < window && !stopped()) queue();
    send();
    if (sent === 0) finish();
  });
}

/** Ends the stream and waits until the server has ended it too (errors are swallowed). */
export function endStream(stream: SessionStream): Promise<void> {
  return new Promise<void>((resolve) => {
    stream.on('error', () => resolve());
    stream.on('end', () => resolve());
    stream.on('close', () => resolve());
    stream.resume();
    stream.end();
  });
}
