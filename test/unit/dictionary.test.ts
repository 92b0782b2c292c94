/**
 * A node's dictionary on a disk that fills up and frees again: for any frames of stores and loads
 * and any frames whose append the disk refuses, every answer is what a dictionary holding only
 * the written stores gives (a refused store fails `disk full` and is never seen, not even by a
 * load of the same frame), and the log holds exactly the stores answered as done.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dictionary, type HeldAnswer } from '../../computing/dictionary.js';
import { DiskFullError, type StoreLog } from '../../computing/wal.js';
import { decode, encode, FailReason, type Message, ProtocolError } from '../../link/index.js';

/** A log on a disk the test fills and frees: a refused flush keeps nothing. */
class FakeDisk implements StoreLog {
  full = false;
  readonly written: [string, bigint][] = [];
  private pending: [string, bigint][] = [];
  readonly unsynced = false;
  append(name: string, value: bigint): void {
    this.pending.push([name, value]);
  }
  appendDelete(): void {
    throw new Error('these properties store and load only');
  }
  flush(): DiskFullError | undefined {
    const records = this.pending;
    this.pending = [];
    if (records.length === 0) return undefined;
    if (this.full) return new DiskFullError('no room (test)');
    this.written.push(...records);
    return undefined;
  }
  whenDurable(done: () => void): void {
    done();
  }
  close(): void {}
}

const ID = 7;
type Op = { store: true; name: string; value: bigint } | { store: false; name: string };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ store: fc.constant(true as const), name: fc.constantFrom('a', 'b', 'c'), value: fc.bigInt({ min: -5n, max: 5n }) }),
  fc.record({ store: fc.constant(false as const), name: fc.constantFrom('a', 'b', 'c') }),
);
const frames = fc.array(fc.record({ ops: fc.array(op, { minLength: 1, maxLength: 6 }), full: fc.boolean() }), { minLength: 1, maxLength: 12 });

function answersOf(dictionary: Dictionary, requests: Buffer[]): { answers: Map<number, Message>; full: boolean } {
  const answers = new Map<number, Message>();
  const take = (reply: Buffer): void => {
    const msg = decode(reply);
    if (msg instanceof ProtocolError) throw msg;
    answers.set(msg.corr, msg);
  };
  for (const request of requests) {
    const served = dictionary.serve(request, ID, false);
    if (served instanceof ProtocolError) throw served;
    if (served !== null) take(served.reply);
  }
  const end = dictionary.endFrame(ID, false);
  end.held.forEach((held: HeldAnswer) => take(held.answer.reply));
  return { answers, full: end.full !== undefined };
}

describe('dictionary on a disk that fills up', () => {
  it('answers as if refused stores never happened, and the log holds exactly the stores answered as done', () => {
    fc.assert(
      fc.property(frames, (script) => {
        const disk = new FakeDisk();
        const dictionary = new Dictionary(new Map(), disk, false);
        const model = new Map<string, bigint>();
        let corr = 0;
        const done: [string, bigint][] = [];
        for (const frame of script) {
          disk.full = frame.full;
          const sent = frame.ops.map((o) => ({ o, corr: ++corr }));
          const requests = sent.map(({ o, corr: c }) =>
            encode(o.store ? { kind: 'store', corr: c, node: ID, name: o.name, value: o.value } : { kind: 'load', corr: c, node: ID, name: o.name }),
          );
          const { answers, full } = answersOf(dictionary, requests);
          expect(answers.size).toBe(sent.length);
          expect(full).toBe(frame.full && frame.ops.some((o) => o.store));
          for (const { o, corr: c } of sent) {
            const got = answers.get(c);
            if (o.store && frame.full) {
              expect(got).toEqual({ kind: 'fail', corr: c, node: ID, reason: FailReason.DiskFull });
              continue;
            }
            if (o.store) {
              expect(got).toEqual({ kind: 'value', corr: c, node: ID, found: true, added: !model.has(o.name), value: o.value });
              model.set(o.name, o.value);
              done.push([o.name, o.value]);
              continue;
            }
            const value = model.get(o.name);
            expect(got).toEqual({ kind: 'value', corr: c, node: ID, found: value !== undefined, added: false, value: value ?? 0n });
          }
          expect(dictionary.size).toBe(model.size);
        }
        expect(disk.written).toEqual(done);
      }),
      { numRuns: 200 },
    );
  });

  it('a frame without stores is answered at once, with nothing held or written', () => {
    const disk = new FakeDisk();
    disk.full = true;
    const dictionary = new Dictionary(new Map([['a', 1n]]), disk, false);
    const served = dictionary.serve(encode({ kind: 'load', corr: 1, node: ID, name: 'a' }), ID, false);
    expect(served).not.toBeNull();
    expect(dictionary.endFrame(ID, false)).toEqual({ held: [] });
  });
});
