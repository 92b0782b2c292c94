/**
 * Commands on their way to a node (control/requests.ts), with a fake root link and fake timers:
 * each ends exactly once (reply, deadline, cancel, loss, close), waits in order while its node
 * cannot be reached yet, fails fast when it is down, and a caller's signal costs one listener
 * however many of its commands are open.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineHeap } from '../../lib/deadline-heap.js';
import { decode, encode, type Message } from '../../link/index.js';
import { ArborError, cancelled, nodeUnavailable } from '../../control/errors.js';
import { type Call, type Reach, Requests } from '../../control/requests.js';

describe('DeadlineHeap', () => {
  it('pops in deadline order whatever the push order', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { maxLength: 300 }), (deadlines) => {
        const heap = new DeadlineHeap();
        deadlines.forEach((d, i) => heap.push(d, i));
        const out: number[] = [];
        while (heap.size > 0) {
          out.push(heap.peekDeadline());
          heap.pop();
        }
        expect(out).toEqual([...deadlines].sort((a, b) => a - b));
        expect(heap.peekDeadline()).toBe(Infinity);
      }),
    );
  });
});

describe('Requests', () => {
  let reach: Map<number, Reach>;
  let sent: Message[];
  let requests: Requests;
  let shutdown: AbortController;
  const call = (ms = 1000, extra: Partial<Call> = {}): Call => ({ ownMs: ms, ...extra });
  const load = (id: number) => (corr: number) => encode({ kind: 'load', corr, node: id, name: 'k' });
  const answer = (msg: Message) => requests.settle({ kind: 'value', corr: msg.corr, node: msg.node, found: true, added: false, value: BigInt(msg.corr) });

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    reach = new Map();
    sent = [];
    shutdown = new AbortController();
    requests = new Requests(
      {
        reach: (id) => reach.get(id) ?? 'ok',
        whyDown: (id) => (reach.get(id) instanceof ArborError ? 'it is down' : undefined),
        send: (record) => sent.push(decode(record) as Message),
        stopping: shutdown.signal,
      },
      () => Date.now(),
    );
  });
  afterEach(() => {
    shutdown.abort();
    vi.useRealTimers();
  });

  it('sends at once to a node that can be reached, and settles by correlation id', async () => {
    const reply = requests.request(5, call(), load(5));
    expect(sent).toHaveLength(1);
    expect(requests.inFlight).toBe(1);
    expect(answer(sent[0] as Message)).toBe(true);
    await expect(reply).resolves.toMatchObject({ kind: 'value', node: 5 });
    expect(requests.inFlight).toBe(0);
    // A late or unknown reply finds nobody.
    expect(answer(sent[0] as Message)).toBe(false);
  });

  it('fails fast for a node that is down, and waits for one that is coming, in arrival order, behind earlier ones', async () => {
    reach.set(6, nodeUnavailable(6, 'gone'));
    await expect(requests.request(6, call(), load(6))).rejects.toMatchObject({ kind: 'unavailable', message: 'Node 6 is unavailable' });
    reach.set(7, 'wait');
    const order: number[] = [];
    const first = requests.request(7, call(), load(7)).then((m) => order.push(m.corr));
    reach.set(7, 'ok');
    // Reachable now, but behind the one still waiting: it waits too.
    const second = requests.request(7, call(), load(7)).then((m) => order.push(m.corr));
    expect(sent).toHaveLength(0);
    requests.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.map((m) => m.node)).toEqual([7, 7]);
    for (const m of [...sent].reverse()) answer(m);
    await Promise.all([first, second]);
    expect(order).toEqual([...order].sort((a, b) => b - a));
    expect(sent[0]?.corr).toBeLessThan(sent[1]?.corr as number);
  });

  it('a wait that turns into a failure fails every waiting command of that node', async () => {
    reach.set(7, 'wait');
    const waiting = [requests.request(7, call(), load(7)), requests.whenReachable(7, call())].map((p) => p.then(() => 'answered', (e: unknown) => e));
    reach.set(7, nodeUnavailable(7, 'given up'));
    requests.wake();
    for (const w of waiting) expect(await w).toMatchObject({ kind: 'unavailable' });
  });

  it('the control\'s own timeout is `unavailable` (with why), the caller\'s deadline is `deadline`', async () => {
    const outcome = (p: Promise<unknown>) => p.then(() => 'answered', (e: unknown) => e);
    const own = outcome(requests.request(5, call(100), load(5)));
    const callers = outcome(requests.request(5, call(60_000, { callerDeadline: Date.now() + 100 }), load(5)));
    reach.set(8, 'wait');
    const waiting = outcome(requests.request(8, call(50), load(8)));
    await vi.advanceTimersByTimeAsync(101);
    expect(await own).toMatchObject({ kind: 'unavailable', reason: 'no reply before the request timeout' });
    expect(await callers).toMatchObject({ kind: 'deadline' });
    expect(await waiting).toMatchObject({ kind: 'unavailable', reason: 'it could not be reached before the request timeout' });
    expect(requests.inFlight).toBe(0);
  });

  it('waiting for its node\'s creation does not use up a command\'s own timeout: it starts once the node is there; the caller\'s deadline still holds', async () => {
    const outcome = (p: Promise<unknown>) => p.then(() => 'answered', (e: unknown) => e);
    reach.set(7, 'creating');
    const own = outcome(requests.request(7, call(100), load(7)));
    const callers = outcome(requests.request(7, call(100, { callerDeadline: Date.now() + 5000 }), load(7)));
    await vi.advanceTimersByTimeAsync(4000);
    expect(sent).toHaveLength(0);
    // Created, and moving for a moment (a rotation around it): now its own 100 ms run.
    reach.set(7, 'wait');
    requests.wake();
    await vi.advanceTimersByTimeAsync(50);
    reach.set(7, 'ok');
    requests.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(2);
    for (const m of sent) answer(m);
    expect(await own).toBe('answered');
    expect(await callers).toBe('answered');
    // A creation that outlasts the caller's deadline: `deadline`.
    reach.set(8, 'creating');
    const late = outcome(requests.request(8, call(100, { callerDeadline: Date.now() + 300 }), load(8)));
    await vi.advanceTimersByTimeAsync(301);
    expect(await late).toMatchObject({ kind: 'deadline' });
  });

  it('a caller\'s signal ends its commands, waiting or in flight, with one listener for all of them, unhooked at the end', async () => {
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    reach.set(9, 'wait');
    const open = [
      ...Array.from({ length: 50 }, () => requests.request(5, call(1000, { signal: controller.signal }), load(5))),
      ...Array.from({ length: 50 }, () => requests.request(9, call(1000, { signal: controller.signal }), load(9))),
    ].map((p) => p.then(() => 'answered', (e: unknown) => e));
    expect(add).toHaveBeenCalledTimes(1);
    controller.abort(cancelled());
    for (const o of open) expect(await o).toMatchObject({ kind: 'cancelled' });
    expect(requests.inFlight).toBe(0);
    expect(requests.busy).toBe(false);
    // Answered normally, a long-lived signal keeps nothing of ours either.
    const stream = new AbortController();
    const streamRemove = vi.spyOn(stream.signal, 'removeEventListener');
    const one = requests.request(5, call(1000, { signal: stream.signal }), load(5));
    answer(sent.at(-1) as Message);
    await one;
    expect(streamRemove).toHaveBeenCalledTimes(1);
    // An already aborted signal fails at once, and nothing is sent.
    const before = sent.length;
    await expect(requests.request(5, call(1000, { signal: controller.signal }), load(5))).rejects.toMatchObject({ kind: 'cancelled' });
    expect(sent).toHaveLength(before);
  });

  it('holds keep commands waiting; drained resolves once nothing held is in flight', async () => {
    const inFlight = requests.request(3, call(), load(3));
    requests.hold([3]);
    const held = requests.request(3, call(), load(3));
    expect(sent).toHaveLength(1);
    let drained = false;
    const drain = requests.drained(new Set([3])).then(() => (drained = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(drained).toBe(false);
    answer(sent[0] as Message);
    await drain;
    await inFlight;
    requests.release([3]);
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(2);
    answer(sent[1] as Message);
    await held;
  });

  it('failWhere ends matching requests in flight at once; the control\'s shutdown ends everything, and later calls fail at once', async () => {
    const outcome = (p: Promise<unknown>) => p.then(() => 'answered', (e: unknown) => e);
    const a = outcome(requests.request(1, call(), load(1)));
    const b = outcome(requests.request(2, call(), load(2)));
    reach.set(4, 'wait');
    const c = outcome(requests.request(4, call(), load(4)));
    requests.failWhere((target) => (target === 1 ? nodeUnavailable(1, 'lost') : undefined));
    expect(await a).toMatchObject({ reason: 'lost' });
    shutdown.abort();
    expect(await b).toMatchObject({ kind: 'unavailable', reason: 'the gateway is stopping' });
    expect(await c).toMatchObject({ kind: 'unavailable', reason: 'the gateway is stopping' });
    await expect(requests.request(2, call(), load(2))).rejects.toMatchObject({ reason: 'the gateway is stopping' });
    expect(requests.busy).toBe(false);
  });

  it('answered hears each reply with its time in the tree, from sent (not asked) to answered; not failures, nor requests sent before it was set', async () => {
    const early = requests.request(5, call(), load(5));
    const heard: [number, number][] = [];
    requests.answered = (target, ms) => heard.push([target, ms]);
    reach.set(7, 'wait');
    const waited = requests.request(7, call(), load(7));
    vi.advanceTimersByTime(30); // waiting for its node: not time in the tree
    reach.set(7, 'ok');
    requests.wake();
    await vi.advanceTimersByTimeAsync(0);
    const failed = requests.request(9, call(), load(9));
    vi.advanceTimersByTime(5);
    const [toFive, toSeven, toNine] = sent as [Message, Message, Message];
    answer(toSeven);
    requests.fail(toNine.corr, nodeUnavailable(9, 'lost'));
    answer(toFive);
    await Promise.all([early, waited, failed.catch(() => undefined)]);
    expect(heard).toEqual([[7, 5]]);
    requests.answered = undefined;
  });

  it('every command ends exactly once, whatever happens to it and in whatever order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom('reply', 'fail', 'cancel', 'expire', 'down', 'wait')), { maxLength: 40 }), async (steps) => {
        const stop = new AbortController();
        const local = new Requests({ reach: (id) => reach.get(id) ?? 'ok', whyDown: () => undefined, send: (record) => sent.push(decode(record) as Message), stopping: stop.signal }, () => Date.now());
        reach.clear();
        sent = [];
        const ended: number[] = [];
        const all = steps.map(([id, what], i) => {
          const controller = new AbortController();
          if (what === 'wait') reach.set(id, 'wait');
          const p = local.request(id, call(what === 'expire' ? 5 : 10_000, { signal: controller.signal }), load(id)).then(
            () => ended.push(i),
            () => ended.push(i),
          );
          const last = sent.at(-1);
          if (what === 'reply' && last !== undefined) local.settle({ kind: 'pong', corr: last.corr, node: id });
          if (what === 'fail' && last !== undefined) local.fail(last.corr, nodeUnavailable(id));
          if (what === 'cancel') controller.abort();
          if (what === 'down') local.failWhere(() => nodeUnavailable(id));
          return p;
        });
        await vi.advanceTimersByTimeAsync(10);
        stop.abort();
        await Promise.all(all);
        expect(ended.sort((x, y) => x - y)).toEqual(steps.map((_, i) => i));
        expect(local.busy).toBe(false);
      }),
      { numRuns: 50 },
    );
  });
});
