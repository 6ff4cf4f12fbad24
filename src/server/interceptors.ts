// Interceptors every call passes through: a JSON log line per call, the end
// of a call once its signal aborts, and the mapping of thrown errors to the
// status the client receives.

import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { toConnectError } from "./errors.js";

export const REQUEST_ID_HEADER = "x-request-id";

// A caller's id is reused only when it cannot disturb log lines or headers.
const ACCEPTABLE_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller's x-request-id when it is safe to log and echo, else a new one. */
export function requestIdFrom(offered: string | null | undefined): string {
  return typeof offered === "string" && ACCEPTABLE_REQUEST_ID.test(offered) ? offered : randomUUID();
}

// Codes that mean the server is at fault rather than the request.
const SERVER_FAULTS = new Set([Code.Internal, Code.Unknown, Code.DataLoss, Code.Unimplemented]);

export function isServerFault(code: Code): boolean {
  return SERVER_FAULTS.has(code);
}

/**
 * Logs one line per call with method, code, duration_ms and request_id. The
 * request id comes from the x-request-id request header, or is made up, and
 * is sent back in the x-request-id response header (for a failed call: in the
 * error metadata, which gRPC sends as a trailer).
 */
export function logCalls(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const requestId = requestIdFrom(req.header.get(REQUEST_ID_HEADER));
    const method = `${req.service.typeName}/${req.method.name}`;

    const tagged = (err: unknown): ConnectError => {
      const error = ConnectError.from(err);
      error.metadata.set(REQUEST_ID_HEADER, requestId);
      return error;
    };
    const log = (error: ConnectError | undefined): void => {
      const line = {
        method,
        code: error === undefined ? "ok" : codeName(error.code),
        duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
        request_id: requestId,
      };
      if (error === undefined) logger.info(line, "rpc");
      else if (isServerFault(error.code)) logger.error({ ...line, err: error.cause ?? error }, "rpc");
      else logger.info({ ...line, error: error.rawMessage }, "rpc");
    };

    try {
      const res = await next(req);
      res.header.set(REQUEST_ID_HEADER, requestId);
      if (!res.stream) {
        log(undefined);
        return res;
      }
      // A stream whose client left fails on its next write; that is the client's doing.
      const streamEnd = (err: unknown): ConnectError => tagged(clientGone(req.signal, err) ?? err);
      // A stream blocked on a write to a client that left may never be resumed: its line is
      // written when the call's signal aborts, and only once.
      let logged = false;
      const logOnce = (error: ConnectError | undefined): void => {
        if (logged) return;
        logged = true;
        req.signal.removeEventListener("abort", onAbort);
        log(error);
      };
      const onAbort = (): void => logOnce(tagged(req.signal.reason));
      req.signal.addEventListener("abort", onAbort, { once: true });
      return { ...res, message: observeEnd(res.message, streamEnd, logOnce) };
    } catch (err) {
      const error = tagged(err);
      log(error);
      throw error;
    }
  };
}

/** Writes to an HTTP/2 or HTTP/1.1 stream the client has already closed fail with these. */
const CLOSED_STREAM_ERRORS = new Set([
  "ERR_HTTP2_INVALID_STREAM",
  "ERR_HTTP2_STREAM_CANCEL",
  "ERR_STREAM_DESTROYED",
  "ERR_STREAM_WRITE_AFTER_END",
  "ECONNRESET",
  "EPIPE",
]);

/**
 * The status of a call ended by its client (cancel, deadline, connection closed), or
 * undefined when `err` is the server's own failure.
 */
function clientGone(signal: AbortSignal, err: unknown): ConnectError | undefined {
  if (signal.aborted) return ConnectError.from(signal.reason);
  const code =
    (err as { code?: unknown; cause?: { code?: unknown } } | undefined)?.code ??
    (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  const reset = err instanceof ConnectError && /stream (has been destroyed|closed with)/i.test(err.rawMessage);
  if ((typeof code === "string" && CLOSED_STREAM_ERRORS.has(code)) || reset)
    return new ConnectError("call ended by the client", Code.Canceled);
  return undefined;
}

/** Turns whatever a handler throws, in a unary call or mid-stream, into the client's status. */
export const mapErrors: Interceptor = (next) => async (req) => {
  try {
    const res = await next(req);
    return res.stream ? { ...res, message: observeEnd(res.message, toConnectError) } : res;
  } catch (err) {
    throw toConnectError(err);
  }
};

/**
 * Ends a call as soon as its signal aborts (deadline, client gone, or the
 * shutdown grace period over), with the abort's reason as status, even when
 * the implementation does not watch the signal itself.
 */
export const endWhenAborted: Interceptor = (next) => async (req) => {
  const res = await untilAborted(next(req), req.signal);
  return res.stream ? { ...res, message: streamUntilAborted(res.message, req.signal) } : res;
};

/** `pending`, or the abort's reason once `signal` aborts first. */
export function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const abort = (): void => reject(ConnectError.from(signal.reason));
    if (signal.aborted) abort();
    signal.addEventListener("abort", abort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

async function* streamUntilAborted<T>(messages: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = messages[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const result = await untilAborted(iterator.next(), signal);
      if (result.done === true) break;
      yield result.value;
    }
    finished = true;
  } finally {
    // Stop an implementation left behind. Its late failure has no caller
    // left to go to.
    if (!finished) iterator.return?.().catch(() => {});
  }
}

/**
 * Passes a response stream through, rethrowing its error as convert(error)
 * and calling end, if given, once the stream is over, however it ends.
 */
async function* observeEnd<T>(
  messages: AsyncIterable<T>,
  convert: (err: unknown) => ConnectError,
  end?: (error: ConnectError | undefined) => void,
): AsyncGenerator<T> {
  // Stays set when the stream stops early because the client went away.
  let outcome: ConnectError | undefined = new ConnectError("call ended by the client", Code.Canceled);
  try {
    yield* messages;
    outcome = undefined;
  } catch (err) {
    outcome = convert(err);
    throw outcome;
  } finally {
    end?.(outcome);
  }
}

/** Code.ResourceExhausted → "resource_exhausted", the names the Connect protocol uses. */
export function codeName(code: Code): string {
  return Code[code].replace(/(?<=[a-z])(?=[A-Z])/g, "_").toLowerCase();
}
