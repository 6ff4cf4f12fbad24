/**
 * The request side of a client-streaming or bidi call: an async iterable that yields what is
 * pushed, as the transport pulls it, and ends after end().
 *
 *   const requests = new RequestQueue<StreamingSynthesizeRequest>();
 *   const responses = tts.streamingSynthesize(requests);
 *   requests.push(config); requests.push(input); requests.end();
 */
export class RequestQueue<T> implements AsyncIterable<T> {
  private readonly queued: T[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  push(message: T): void {
    this.queued.push(message);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const next = this.queued.shift();
      if (next !== undefined) yield next;
      else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
