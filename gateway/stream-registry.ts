/**
 * @module Open server streams, so shutdown can end them: grpc-js `tryShutdown` waits for
 * every open stream, and a Watch never ends by itself.
 */

export class StreamRegistry {
  private readonly closers = new Set<() => void>();

  /** Registers how to end one stream; returns the function that unregisters it. */
  add(close: () => void): () => void {
    this.closers.add(close);
    return () => this.closers.delete(close);
  }

  closeAll(): void {
    for (const close of [...this.closers]) close();
  }
}
