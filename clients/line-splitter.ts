/**
 * @module Splits decoded text chunks into lines, keeping memory bounded.
 *
 * Pure. Lines end at `\n` (a `\r` before it is left for the parser to drop). A line longer than
 * `maxChars` is cut to `maxChars + 1` characters and the rest of it is discarded as it arrives, so
 * a gigabyte without a newline costs no more memory than a long line, and the parser, seeing more
 * than `maxChars`, refuses it.
 */
export class LineSplitter {
  private partial = '';
  private overflowing = false;

  /** @param maxChars the longest line kept whole; longer ones are cut to `maxChars + 1`. */
  constructor(private readonly maxChars: number) {}

  /** Takes the next chunk of text and returns the lines it completes. */
  push(chunk: string): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', start)) {
      this.append(chunk.slice(start, end));
      lines.push(this.partial);
      this.partial = '';
      this.overflowing = false;
      start = end + 1;
    }
    this.append(chunk.slice(start));
    return lines;
  }

  /** The last line, when the input did not end with a newline. */
  end(): string | undefined {
    const last = this.partial;
    this.partial = '';
    this.overflowing = false;
    return last === '' ? undefined : last;
  }

  private append(piece: string): void {
    if (this.overflowing) return;
    const room = this.maxChars + 1 - this.partial.length;
    if (piece.length >= room) {
      this.partial += piece.slice(0, room);
      this.overflowing = true;
    } else {
      this.partial += piece;
    }
  }
}
