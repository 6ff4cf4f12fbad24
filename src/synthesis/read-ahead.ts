/**
 * Runs an async generator ahead of its consumer: from construction on, the source is pulled
 * as fast as it produces and its items are buffered until the consumer takes them. A stream
 * uses it so that its synthesis slot is held for the inference only, however slowly the
 * client reads: a client that never reads holds the audio in memory (as an unread unary
 * response does), not a slot other calls wait for.
 */
export class ReadAhead<T> implements AsyncIterable<T> {
  private readonly buffered: T[] = [];
  private failure: { error: unknown } | undefined;
  private done = false;
  private stopped = false;
  private wake: (() => void) | undefined;

  /** `onSettled` runs once the source is over: at its end, on its error, or after stop(). */
  constructor(
    private readonly source: AsyncGenerator<T>,
    onSettled: () => void,
  ) {
    void this.pump().finally(() => {
      this.done = true;
      onSettled();
      this.wake?.();
    });
  }

  /** The consumer is gone: the source is closed before its next item; nothing more is kept. */
  stop(): void {
    this.stopped = true;
    this.buffered.length = 0;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const next = this.buffered.shift();
      if (next !== undefined) {
        yield next;
      } else if (this.failure) {
        throw this.failure.error;
      } else if (this.done || this.stopped) {
        return;
      } else {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    }
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        if (this.stopped) {
          await this.source.return(undefined);
          return;
        }
        const result = await this.source.next();
        if (result.done === true) return;
        if (!this.stopped) this.buffered.push(result.value);
        this.wake?.();
      }
    } catch (error) {
      this.failure = { error };
    }
  }
}
