// Graceful shutdown bookkeeping: counts the HTTP requests in flight so that shutdown can
// wait for them (and for WebSocket sessions), and says when shutdown began (the call pipeline then refuses new calls).

import type { RequestHandler } from "./listener.js";

export class Drain {
  private inFlight = 0;
  private shuttingDown = false;
  private readonly onIdle = new Set<() => void>();

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Wraps a request handler so that each request counts until its response closes. */
  track(handler: RequestHandler): RequestHandler {
    return (req, res) => {
      res.once("close", this.hold());
      handler(req, res);
    };
  }

  /** Counts one call in flight (a WebSocket session, say) until the returned release is called. */
  hold(): () => void {
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      if (this.inFlight === 0) for (const notify of this.onIdle) notify();
    };
  }

  /** True once start() was called. */
  get draining(): boolean {
    return this.shuttingDown;
  }

  start(): void {
    this.shuttingDown = true;
  }

  /** Resolves true once no request is in flight, or false when timeoutMs passes first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (drained: boolean): void => {
        clearTimeout(timer);
        this.onIdle.delete(notify);
        resolve(drained);
      };
      const notify = (): void => finish(true);
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.onIdle.add(notify);
    });
  }
}
