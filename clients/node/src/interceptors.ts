/**
 * The interceptors both clients (Node and browser) install: the API key, and retries of the
 * refusals that mean "try again later" (RESOURCE_EXHAUSTED, UNAVAILABLE).
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/** Adds `authorization: Bearer <apiKey>` to every call. */
export function bearer(apiKey: string): Interceptor {
  return (next) => (request) => {
    request.header.set("authorization", `Bearer ${apiKey}`);
    return next(request);
  };
}

/** The interceptors of both clients, in order: the API key, retries, then the caller's own (which see every attempt). */
export function clientInterceptors(options: {
  apiKey?: string;
  retry?: RetryOptions | false;
  interceptors?: Interceptor[];
}): Interceptor[] {
  return [
    ...(options.apiKey === undefined ? [] : [bearer(options.apiKey)]),
    ...(options.retry === false ? [] : [retry(options.retry)]),
    ...(options.interceptors ?? []),
  ];
}

export interface RetryOptions {
  /** Attempts in all, the first included (default 3); 1 turns retries off. */
  maxAttempts?: number;
  /**
   * The longest wait before a retry, in milliseconds (default 5000). A refusal whose
   * `retry-after-ms` asks for longer is not retried: waiting less than the server said is futile.
   */
  maxDelayMs?: number;
}

/** The metadata in which the server says how long to wait before retrying, in milliseconds. */
export const RETRY_AFTER_HEADER = "retry-after-ms";
const RETRYABLE = new Set([Code.ResourceExhausted, Code.Unavailable]);
/** The wait without a hint from the server: 100 ms, doubled on every further attempt, with jitter. */
const BACKOFF_BASE_MS = 100;

/**
 * Retries a call the server refused with RESOURCE_EXHAUSTED or UNAVAILABLE, after the
 * `retry-after-ms` it sent (or a short exponential backoff without one), at most
 * `maxAttempts` times in all and within the call's deadline (the wait ends with the call's
 * signal). A server stream is retried only if it failed before its first message: after that
 * the caller has audio in hand and a retry would repeat it. A bidi stream is never retried: its
 * requests are written as it runs.
 */
export function retry(options: RetryOptions = {}): Interceptor {
  const maxAttempts = options.maxAttempts ?? 3;
  const maxDelayMs = options.maxDelayMs ?? 5000;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`retry.maxAttempts: ${maxAttempts} must be an integer ≥ 1`);
  if (!(maxDelayMs >= 0)) throw new RangeError(`retry.maxDelayMs: ${maxDelayMs} must be ≥ 0`);

  /** The wait before attempt `attempt + 1`, or undefined when `error` must not be retried. */
  const delayAfter = (error: unknown, attempt: number): number | undefined => {
    if (attempt >= maxAttempts || !(error instanceof ConnectError) || !RETRYABLE.has(error.code)) return undefined;
    const hint = Number(error.metadata.get(RETRY_AFTER_HEADER) ?? Number.NaN);
    const delay = Number.isFinite(hint) && hint >= 0 ? hint : BACKOFF_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random());
    return delay <= maxDelayMs ? delay : undefined;
  };

  return (next) => async (request) => {
    if (!request.stream) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await next(request);
        } catch (error) {
          const delay = delayAfter(error, attempt);
          if (delay === undefined) throw error;
          await sleep(delay, request.signal);
        }
      }
    }
    // A bidi stream's requests are written while it runs (live text): it cannot be sent again.
    if (request.method.methodKind !== "server_streaming") return next(request);
    // A server stream sends one request message; read it once so that every attempt can send it again.
    const messages = [];
    for await (const message of request.message) messages.push(message);
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await next({ ...request, message: iterate(messages) });
        if (!response.stream) return response;
        const messageIterator = response.message[Symbol.asyncIterator]();
        const first = await messageIterator.next();
        return { ...response, message: resume(first, messageIterator) };
      } catch (error) {
        const delay = delayAfter(error, attempt);
        if (delay === undefined) throw error;
        await sleep(delay, request.signal);
      }
    }
  };
}

async function* iterate<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

/** The stream's messages from the one already read on; a caller that stops early ends the call. */
async function* resume<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncIterable<T> {
  try {
    for (let result = first; !result.done; result = await rest.next()) yield result.value;
  } finally {
    await rest.return?.();
  }
}

/** Resolves after `ms`, or rejects with the call's own status when its deadline passes or it is cancelled first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(ConnectError.from(signal.reason));
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(ConnectError.from(signal.reason));
    };
    signal.addEventListener("abort", abort, { once: true });
  });
}
