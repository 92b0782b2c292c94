/**
 * A raw Session stream for tests: send commands with tags (one command per SessionRequest, or
 * several with `sendBatch`), await replies by tag.
 */
import { expect } from 'vitest';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { ArborServiceClient, SessionCommand, SessionRequest, SessionResponse, SessionResult } from '../../proto/gen/arbor/v1/arbor.js';

export type Command = NonNullable<SessionCommand['command']>;
export type Result = NonNullable<SessionResult['result']>;

export class TestSession {
  readonly replies = new Map<bigint, Result>();
  /** Tags in the order their replies arrived. */
  readonly arrival: bigint[] = [];
  /** SessionResponse messages received so far. */
  responses = 0;
  private readonly stream: ClientDuplexStream<SessionRequest, SessionResponse>;
  private nextTag = 1n;
  readonly ended: Promise<void>;

  constructor(client: ArborServiceClient) {
    this.stream = client.session();
    this.ended = new Promise((resolve, reject) => {
      this.stream.on('error', reject);
      this.stream.on('end', () => resolve());
    });
    this.ended.catch(() => undefined);
    this.stream.on('data', (res: SessionResponse) => {
      this.responses++;
      for (const { tag, result } of res.results) {
        if (result !== undefined) this.replies.set(tag, result);
        this.arrival.push(tag);
      }
    });
  }

  send(command: Command): bigint {
    return this.sendBatch([command])[0] as bigint;
  }

  /** Sends the commands in one SessionRequest; returns their tags. */
  sendBatch(commands: readonly Command[]): bigint[] {
    const tagged = commands.map((command) => ({ tag: this.nextTag++, command }));
    this.stream.write({ commands: tagged });
    return tagged.map((c) => c.tag);
  }

  /** Writes a raw request, e.g. a malformed one. */
  write(request: SessionRequest): void {
    this.stream.write(request);
  }

  async reply(tag: bigint, timeoutMs = 10_000): Promise<Result> {
    await expect.poll(() => this.replies.has(tag), { message: `reply to tag ${tag}`, timeout: timeoutMs, interval: 20 }).toBe(true);
    return this.replies.get(tag) as Result;
  }

  async all(tags: bigint[], timeoutMs = 20_000): Promise<Result[]> {
    await expect.poll(() => tags.every((t) => this.replies.has(t)), { message: `${tags.length} replies`, timeout: timeoutMs, interval: 20 }).toBe(true);
    return tags.map((t) => this.replies.get(t) as Result);
  }

  end(): Promise<void> {
    this.stream.end();
    return this.ended;
  }

  /** Abandons the stream, as a client that goes away would. */
  cancel(): void {
    this.stream.cancel();
  }
}

export const create = (id: number, parent?: number): Command => ({ $case: 'create', value: { id, parent } });
export const store = (id: number, name: string, value: bigint): Command => ({ $case: 'exec', value: { id, name, value } });
export const load = (id: number, name: string): Command => ({ $case: 'exec', value: { id, name, value: undefined } });
export const ping = (id: number): Command => ({ $case: 'ping', value: { id } });
