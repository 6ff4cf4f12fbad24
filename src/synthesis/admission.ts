/**
 * Admission control for syntheses: at most `maxConcurrent` run at once, at most `maxQueue`
 * wait in line (first come, first served), and the rest are refused at once with
 * RESOURCE_EXHAUSTED and a retry hint. A waiting call whose signal aborts (deadline passed,
 * client gone, shutdown cut-off) leaves the line without running. Cache hits never come
 * here: the Synthesizer asks for a slot only once it knows it has to synthesize.
 *
 * A semaphore of our own rather than p-limit/p-queue: those cannot take a waiting task out
 * of the line when its caller gives up (p-queue's signal option only rejects the caller's
 * promise in its newest versions, and neither bounds the line).
 */
import { AbortedError, OverloadedError } from "../errors/index.js";

export interface AdmissionOptions {
  maxConcurrent: number;
  maxQueue: number;
}

export interface AdmissionStats {
  /** Syntheses holding a slot now. */
  running: number;
  /** Syntheses waiting for a slot now. */
  queued: number;
  /** Slots given out since start. */
  admitted: number;
  /** Calls refused because the line was full. */
  rejected: number;
  /** Calls that left the line because their signal aborted. */
  abandoned: number;
}

/** A slot. release() is idempotent; the slot goes to the next call in line, if any. */
export interface Permit {
  release(): void;
}

interface Waiter {
  grant(permit: Permit): void;
}

// The retry hint assumes a slot is held this long until the first syntheses tell otherwise.
const INITIAL_HOLD_MS = 1000;
const MIN_RETRY_AFTER_MS = 50;
const MAX_RETRY_AFTER_MS = 60_000;

export class Admission {
  private running = 0;
  // A Set keeps insertion order (first come, first served) and deletes in O(1).
  private readonly line = new Set<Waiter>();
  private admitted = 0;
  private rejected = 0;
  private abandoned = 0;
  // Moving average of how long a slot is held, for the retry hint.
  private averageHoldMs = INITIAL_HOLD_MS;

  constructor(private readonly options: AdmissionOptions) {}

  stats(): AdmissionStats {
    return { running: this.running, queued: this.line.size, admitted: this.admitted, rejected: this.rejected, abandoned: this.abandoned };
  }

  /**
   * A slot, now or once the calls ahead are done. Rejects with OverloadedError when the
   * line is full, and with AbortedError when `signal` aborts before a slot is free.
   */
  acquire(signal: AbortSignal): Promise<Permit> {
    if (signal.aborted) return Promise.reject(AbortedError.of(signal));
    if (this.running < this.options.maxConcurrent) {
      this.running++;
      return Promise.resolve(this.permit());
    }
    if (this.line.size >= this.options.maxQueue) {
      this.rejected++;
      const { maxConcurrent, maxQueue } = this.options;
      return Promise.reject(
        new OverloadedError(
          `server busy: ${maxConcurrent} syntheses running and ${maxQueue} waiting (MAX_CONCURRENT_REQUESTS, MAX_QUEUE_SIZE); retry later`,
          this.retryAfterMs(),
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const leave = (): void => {
        this.line.delete(waiter);
        this.abandoned++;
        reject(AbortedError.of(signal));
      };
      const waiter: Waiter = {
        grant: (permit) => {
          signal.removeEventListener("abort", leave);
          resolve(permit);
        },
      };
      this.line.add(waiter);
      signal.addEventListener("abort", leave, { once: true });
    });
  }

  private permit(): Permit {
    this.admitted++;
    const since = performance.now();
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.averageHoldMs = 0.8 * this.averageHoldMs + 0.2 * (performance.now() - since);
        const next = this.line.values().next();
        if (next.done === true) {
          this.running--;
        } else {
          // The slot passes straight to the next in line: `running` stays the same.
          this.line.delete(next.value);
          next.value.grant(this.permit());
        }
      },
    };
  }

  /** Roughly when a place in the line frees up: one slot's hold time, shared by the slots. */
  private retryAfterMs(): number {
    const estimate = this.averageHoldMs / this.options.maxConcurrent;
    return Math.round(Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, estimate)));
  }
}
