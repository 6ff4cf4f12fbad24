/**
 * Admission control for syntheses: at most `maxConcurrent` run at once, at most `maxQueue`
 * wait, at most `maxQueuePerClient` of them from one client, and the rest are refused at
 * once with RESOURCE_EXHAUSTED and a retry hint. A slot that frees up goes to the clients in
 * turn (first come, first served within a client), so a client with many calls waiting
 * cannot starve another's. A waiting call whose signal aborts (deadline passed, client gone,
 * shutdown cut-off) leaves the line without running. Cache hits never come here: the
 * Synthesizer asks for a slot only once it knows it has to synthesize.
 *
 * A semaphore of our own rather than p-limit/p-queue: those cannot take a waiting task out
 * of the line when its caller gives up (p-queue's signal option only rejects the caller's
 * promise in its newest versions, and neither bounds the line).
 */
import { AbortedError, OverloadedError } from "../errors/index.js";

export interface AdmissionOptions {
  maxConcurrent: number;
  maxQueue: number;
  maxQueuePerClient: number;
}

export interface AdmissionStats {
  /** Syntheses holding a slot now. */
  running: number;
  /** Syntheses waiting for a slot now. */
  queued: number;
  /** Slots given out since start. */
  admitted: number;
  /** Calls refused because the line, or the client's share of it, was full. */
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
  private queued = 0;
  // Each client's calls in line. Map and Set keep insertion order: the first key is the
  // client whose turn it is, the first waiter its oldest call; both delete in O(1).
  private readonly lines = new Map<string, Set<Waiter>>();
  private admitted = 0;
  private rejected = 0;
  private abandoned = 0;
  // Moving average of how long a slot is held, for the retry hint.
  private averageHoldMs = INITIAL_HOLD_MS;

  constructor(private readonly options: AdmissionOptions) {}

  stats(): AdmissionStats {
    return { running: this.running, queued: this.queued, admitted: this.admitted, rejected: this.rejected, abandoned: this.abandoned };
  }

  /**
   * A slot, now or once it is `client`'s turn. Rejects with OverloadedError when the line or
   * the client's share of it is full, and with AbortedError when `signal` aborts first.
   */
  acquire(signal: AbortSignal, client: string): Promise<Permit> {
    if (signal.aborted) return Promise.reject(AbortedError.of(signal));
    if (this.running < this.options.maxConcurrent) {
      this.running++;
      return Promise.resolve(this.permit());
    }
    const { maxConcurrent, maxQueue, maxQueuePerClient } = this.options;
    if (this.queued >= maxQueue) {
      return this.refuse(
        `server busy: ${maxConcurrent} syntheses running and ${maxQueue} waiting (MAX_CONCURRENT_REQUESTS, MAX_QUEUE_SIZE); retry later`,
      );
    }
    const line = this.lines.get(client) ?? new Set<Waiter>();
    if (line.size >= maxQueuePerClient) {
      return this.refuse(
        `server busy: this client already has ${line.size} syntheses waiting, its share of the queue (MAX_QUEUE_PER_CLIENT); retry later`,
      );
    }
    return new Promise((resolve, reject) => {
      const leave = (): void => {
        this.remove(client, line, waiter);
        this.abandoned++;
        reject(AbortedError.of(signal));
      };
      const waiter: Waiter = {
        grant: (permit) => {
          signal.removeEventListener("abort", leave);
          resolve(permit);
        },
      };
      line.add(waiter);
      this.lines.set(client, line);
      this.queued++;
      signal.addEventListener("abort", leave, { once: true });
    });
  }

  private refuse(message: string): Promise<never> {
    this.rejected++;
    return Promise.reject(new OverloadedError(message, this.retryAfterMs()));
  }

  private remove(client: string, line: Set<Waiter>, waiter: Waiter): void {
    line.delete(waiter);
    this.queued--;
    if (line.size === 0) this.lines.delete(client);
  }

  /** The oldest call of the client whose turn it is; that client then goes to the back. */
  private nextInTurn(): Waiter | undefined {
    const turn = this.lines.entries().next();
    if (turn.done === true) return undefined;
    const [client, line] = turn.value;
    const waiter = line.values().next().value!;
    this.remove(client, line, waiter);
    if (line.size > 0) {
      this.lines.delete(client);
      this.lines.set(client, line);
    }
    return waiter;
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
        const next = this.nextInTurn();
        // The slot passes straight to the next in turn: `running` stays the same.
        if (next === undefined) this.running--;
        else next.grant(this.permit());
      },
    };
  }

  /** Roughly when a place in the line frees up: one slot's hold time, shared by the slots. */
  private retryAfterMs(): number {
    const estimate = this.averageHoldMs / this.options.maxConcurrent;
    return Math.round(Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, estimate)));
  }
}
