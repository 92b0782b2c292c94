/**
 * @module Decides when each reply is printed: as soon as it arrives, or (`--ordered`) in input order.
 *
 * Pure apart from the `emit` callback. Each input line that will print something reserves a slot
 * when it is read; its text fills the slot when known. In ordered mode a filled slot waits for
 * every earlier one, so `backlog` (slots reserved but not yet printed) is what bounds memory, and
 * the reader pauses on it.
 */
export class ReplyOrder {
  private reserved = 0;
  private printed = 0;
  private unfilled = 0;
  private readonly waiting = new Map<number, string | undefined>();

  /**
   * @param ordered print in input order (else in arrival order)
   * @param emit receives each text, in printing order
   */
  constructor(
    private readonly ordered: boolean,
    private readonly emit: (text: string) => void,
  ) {}

  /** Reserves the next slot, in input order. */
  reserve(): number {
    this.unfilled += 1;
    return this.reserved++;
  }

  /**
   * Fills a slot with its text; `undefined` means the slot prints nothing (e.g. its reply was lost
   * with the session) but no longer holds back later slots. Each slot is filled once.
   */
  fill(slot: number, text: string | undefined): void {
    this.unfilled -= 1;
    if (!this.ordered) {
      this.printed += 1;
      if (text !== undefined) this.emit(text);
      return;
    }
    this.waiting.set(slot, text);
    while (this.waiting.has(this.printed)) {
      const next = this.waiting.get(this.printed);
      this.waiting.delete(this.printed);
      this.printed += 1;
      if (next !== undefined) this.emit(next);
    }
  }

  /** Slots reserved but not printed yet: replies in flight, plus (ordered) those held back. */
  get backlog(): number {
    return this.reserved - this.printed;
  }

  /** Slots reserved but not filled yet: replies still in flight. */
  get inFlight(): number {
    return this.unfilled;
  }
}
