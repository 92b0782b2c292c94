/**
 * @module Replies go up in waves: the answers to one request frame from the parent leave
 * together, once every request of it that went down to a child is answered.
 *
 * Why: a frame of requests fans out over the subtree and its answers come back from each child
 * at a different moment. Relayed as they come, every node sends its parent one message per child
 * frame, so the messages multiply on the way up (on a Session load, replies were most of the
 * ZeroMQ messages, and a message costs a send() and wakeups, not bytes). Held
 * until the wave is complete, each node sends about one message per request frame.
 *
 * A wave is held at most twice as long as answers from below have recently taken to come back
 * (a moving average over every answer that completes part of a wave), between 1 and 25 ms. On a
 * lightly loaded tree answers come back within a millisecond, so a frozen or dead child delays
 * the answers that share a frame with it by a millisecond or two (its healthy siblings keep the
 * average low); under load, where a wave's round trip through the subtree takes many times that,
 * the hold grows with it and waves complete before they are let go.
 * (A fixed short hold lets most waves expire under load and go up in pieces, one message each;
 * the figures are in commit e09b5f1's message.) An incomplete wave's late answers go up
 * one by one as they come (or never, and the control's deadline answers them). A request that
 * went down alone (one caller waiting) is complete with its one reply, so it is never held.
 */
import { monotonicMs, recordCorr } from '../link/index.js';

/** Bounds of the hold, and the weight of the newest completion time in its moving average. */
export const WAVE_HOLD = { minMs: 1, maxMs: 25, factor: 2, weight: 0.1 } as const;

interface Wave {
  /** Requests of the wave that went down and are not answered yet. */
  outstanding: number;
  readonly replies: Buffer[];
  /** The correlation ids that went down, to forget them if the wave is released incomplete. */
  readonly corrs: number[];
  timer: NodeJS.Timeout | null;
  /** When its request frame was read (monotonic ms). */
  readonly startedAt: number;
}

export class ReplyWaves {
  /** A request frame is being read (between `begin` and `end`). */
  private reading = false;
  /**
   * The wave of the frame being read, made only once the frame has more than one answer to wait
   * for or give (most frames at one request in flight have one: a wave object per frame was
   * much of a relay node's JavaScript per hop). Until then its one answer is below.
   */
  private current: Wave | null = null;
  /** The frame's one request that went down so far (`soleDown`), by correlation id. */
  private soleDown = false;
  private soleCorr = 0;
  /** The frame's one reply of our own so far. */
  private soleReply: Buffer | null = null;
  /** Requests that went down, by correlation id, to the wave that waits for their reply. */
  private readonly waiting = new Map<number, Wave>();
  private readonly held = new Set<Wave>();
  /** Moving average of how long answers from below took to come back. */
  private answerMs = WAVE_HOLD.minMs;

  /**
   * @param release passes a reply on up (the uplink's writer)
   * @param clock monotonic milliseconds (tests pass their own)
   */
  constructor(
    private readonly release: (reply: Buffer) => void,
    private readonly clock: () => number = monotonicMs,
  ) {}

  /** How long a wave is held at most, now (see the module comment). */
  get holdMs(): number {
    return Math.min(WAVE_HOLD.maxMs, Math.max(WAVE_HOLD.minMs, WAVE_HOLD.factor * this.answerMs));
  }

  /** A request frame from the parent starts: what follows belongs to its wave. */
  begin(): void {
    this.reading = true;
    this.current = null;
    this.soleDown = false;
    this.soleReply = null;
  }

  /** A request of the current wave went down to a child. */
  forwarded(request: Buffer): void {
    if (!this.reading) return;
    const corr = recordCorr(request);
    if (this.current === null && !this.soleDown && this.soleReply === null) {
      this.soleDown = true;
      this.soleCorr = corr;
      return;
    }
    const wave = this.wave();
    wave.outstanding++;
    wave.corrs.push(corr);
    this.waiting.set(corr, wave);
  }

  /** Our own reply (served here, or refused here) to a request of the current wave. */
  reply(reply: Buffer): void {
    if (!this.reading) return this.release(reply);
    if (this.current === null && !this.soleDown && this.soleReply === null) {
      this.soleReply = reply;
      return;
    }
    this.wave().replies.push(reply);
  }

  /** The request frame is read: its wave leaves now if nothing went down, else when complete. */
  end(): void {
    if (!this.reading) return;
    this.reading = false;
    const wave = this.current;
    this.current = null;
    if (wave === null) {
      // At most one answer: our own reply leaves now; a request that went down alone is complete
      // with its one reply, so that reply passes straight through (fromBelow finds no wave) and
      // nothing is held: no timer per request at one in flight, where each timer was a wakeup
      // of this process whenever the subtree was slower than the hold.
      const reply = this.soleReply;
      this.soleReply = null;
      this.soleDown = false;
      if (reply !== null) this.release(reply);
      return;
    }
    if (wave.outstanding === 0) return this.flush(wave);
    this.held.add(wave);
    wave.timer = setTimeout(() => this.expire(wave), this.holdMs);
  }

  /** The current frame's wave, made now from its one answer so far if there is none yet. */
  private wave(): Wave {
    if (this.current !== null) return this.current;
    const wave: Wave = { outstanding: 0, replies: [], corrs: [], timer: null, startedAt: this.clock() };
    if (this.soleDown) {
      wave.outstanding = 1;
      wave.corrs.push(this.soleCorr);
      this.waiting.set(this.soleCorr, wave);
    }
    if (this.soleReply !== null) wave.replies.push(this.soleReply);
    this.soleDown = false;
    this.soleReply = null;
    this.current = wave;
    return wave;
  }

  /** A reply from below (or a refusal standing in for one): held with its wave, else passed on. */
  fromBelow(reply: Buffer): void {
    const corr = recordCorr(reply);
    // The reply to the frame's one request down, while the frame is still read: it joins the wave.
    if (this.soleDown && corr === this.soleCorr) this.wave();
    const wave = this.waiting.get(corr);
    if (wave === undefined) return this.release(reply);
    this.waiting.delete(corr);
    wave.replies.push(reply);
    this.answerMs += WAVE_HOLD.weight * (this.clock() - wave.startedAt - this.answerMs);
    if (--wave.outstanding === 0 && this.held.has(wave)) this.flush(wave);
  }

  /** Releases everything held (the process is stopping). */
  stop(): void {
    for (const wave of [...this.held]) this.expire(wave);
  }

  /** Requests that went down and still wait for their reply here. */
  get pending(): number {
    return this.waiting.size;
  }

  private flush(wave: Wave): void {
    if (wave.timer !== null) clearTimeout(wave.timer);
    this.held.delete(wave);
    for (const reply of wave.replies) this.release(reply);
  }

  /** Held too long: what is in goes up; replies still missing will go up one by one. */
  private expire(wave: Wave): void {
    for (const corr of wave.corrs) if (this.waiting.get(corr) === wave) this.waiting.delete(corr);
    this.flush(wave);
  }
}
