// The one pipeline every call on the service port goes through, RPC or plain HTTP route:
// a request id; refusal while draining; API key, role and rate (access.ts); the end of the
// call once it is aborted (deadline, client gone, grace period over); typed errors mapped to
// a status (status.ts); and, once the call is over, one log line and one metric sample.
// RPCs take it as one Connect interceptor, the HTTP routes (/v1, /metrics) through route().
// Calls Connect refuses before any interceptor runs (a body that does not decode, say) are
// handed to finish() by the boundary (boundary.ts).

import { randomUUID } from "node:crypto";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { InvalidArgumentError, MethodNotAllowedError, UnavailableError } from "../errors/index.js";
import type { Access, Caller } from "./access.js";
import type { CallMetrics } from "./metrics.js";
import type { HttpRoute } from "./routes.js";
import { toConnectError } from "./status.js";

export const REQUEST_ID_HEADER = "x-request-id";

// A caller's id is reused only when it cannot disturb log lines or headers.
const ACCEPTABLE_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** One call, from its first byte to its status. */
export interface Call {
  readonly requestId: string;
  readonly kind: CallKind;
  readonly started: number;
  /** Set once the pipeline took the call over; it then writes the call's log line itself. */
  taken: boolean;
}

/** The call an RPC belongs to, set by the boundary for the interceptor. */
export const CALL = createContextKey<Call | undefined>(undefined, { description: "call" });

/** Who is calling, as access.ts names it, for the caller's share of the synthesis queue. */
export const CLIENT = createContextKey<string>("unknown", { description: "client" });

/** The peer's IP address, set for each call from its connection (see server.ts). */
export const PEER_ADDRESS = createContextKey<string>("unknown", { description: "peer address" });

/** What is called: an RPC by its gRPC service, method and type; a plain-HTTP route by verb and path. */
export type CallKind =
  | { readonly rpc: { readonly service: string; readonly method: string; readonly type: string } }
  | { readonly http: { readonly method: string; readonly path: string } };

/** The CallKind of a Connect method. */
export function rpcKind(method: DescMethod): CallKind {
  // grpc_type as the gRPC ecosystem's metrics name it: unary, server_stream, client_stream, bidi_stream.
  return { rpc: { service: method.parent.typeName, method: method.name, type: method.methodKind.replace("_streaming", "_stream") } };
}

export interface PipelineDeps {
  readonly logger: Logger;
  readonly metrics: CallMetrics;
  readonly access: Access;
  /** True once shutdown began: new calls are refused with UNAVAILABLE. */
  readonly draining: () => boolean;
}

export interface CallPipeline {
  /** Starts a call: its request id is the caller's x-request-id when acceptable, else a new one. */
  begin(kind: CallKind, offeredRequestId: string | null | undefined): Call;
  /** The checks before any handler runs: not draining, then access (key, role, rate). Returns who calls. */
  admit(caller: Caller): string;
  /** The call's one log line and one metric sample; `httpStatus` for a plain-HTTP route. */
  finish(call: Call, error: ConnectError | undefined, httpStatus?: number): void;
  /** Counts the audio a response message reports (its duration, generation time), for /metrics. */
  observeSpeech(message: unknown): void;
  /** The pipeline for RPCs, as one Connect interceptor. */
  readonly interceptor: Interceptor;
}

export function createPipeline(deps: PipelineDeps): CallPipeline {
  const { logger, metrics, access } = deps;

  const begin = (kind: CallKind, offered: string | null | undefined): Call => {
    metrics.observeStart(kind);
    return {
      requestId: typeof offered === "string" && ACCEPTABLE_REQUEST_ID.test(offered) ? offered : randomUUID(),
      kind,
      started: performance.now(),
      taken: false,
    };
  };

  const admit = (caller: Caller): string => {
    if (deps.draining()) throw new UnavailableError("server is shutting down");
    return access.check(caller);
  };

  const finish = (call: Call, error: ConnectError | undefined, httpStatus?: number): void => {
    const { kind } = call;
    const seconds = (performance.now() - call.started) / 1000;
    metrics.observeEnd(kind, error?.code, seconds, httpStatus);
    const line = {
      ...("rpc" in kind ? { method: `${kind.rpc.service}/${kind.rpc.method}` } : { ...kind.http, status: httpStatus }),
      code: error === undefined ? "ok" : codeName(error.code),
      duration_ms: Math.round(seconds * 1e6) / 1000,
      request_id: call.requestId,
    };
    const message = "rpc" in kind ? "rpc" : "http";
    if (error === undefined) logger.info(line, message);
    else if (isServerFault(error.code)) logger.error({ ...line, err: error.cause ?? error }, message);
    // Client errors: the message the client got, and what stayed on the server (a path, a library's text).
    else logger.info({ ...line, error: error.rawMessage, ...(causeOf(error) ? { cause: causeOf(error) } : {}) }, message);
  };

  const interceptor: Interceptor = (next) => async (req) => {
    const call = req.contextValues.get(CALL) ?? begin(rpcKind(req.method), req.header.get(REQUEST_ID_HEADER));
    call.taken = true;
    const tagged = (err: unknown): ConnectError => {
      const error = toConnectError(clientGone(req.signal, err) ?? err);
      error.metadata.set(REQUEST_ID_HEADER, call.requestId);
      return error;
    };
    try {
      const client = admit({
        service: req.service.typeName,
        method: req.method.name,
        authorization: req.header.get("authorization"),
        peer: req.contextValues.get(PEER_ADDRESS),
      });
      req.contextValues.set(CLIENT, client);
      // A request stream that cannot be decoded fails while the implementation reads it.
      const request = req.stream ? { ...req, message: decodedOrRefused(req.message) } : req;
      const res = await untilAborted(next(request), req.signal);
      res.header.set(REQUEST_ID_HEADER, call.requestId);
      if (!res.stream) {
        metrics.observeSpeech(res.message);
        finish(call, undefined);
        return res;
      }
      // A stream blocked on a write to a client that left may never be resumed: its line is
      // written when the call's signal aborts, and only once.
      let finished = false;
      const finishOnce = (error: ConnectError | undefined): void => {
        if (finished) return;
        finished = true;
        req.signal.removeEventListener("abort", onAbort);
        finish(call, error);
      };
      const onAbort = (): void => finishOnce(tagged(req.signal.reason));
      req.signal.addEventListener("abort", onAbort, { once: true });
      const messages = observed(streamUntilAborted(res.message, req.signal), metrics.observeSpeech);
      return { ...res, message: endsWith(messages, tagged, finishOnce) };
    } catch (err) {
      const error = tagged(err);
      finish(call, error);
      throw error;
    }
  };

  return { begin, admit, finish, observeSpeech: metrics.observeSpeech, interceptor };
}

/**
 * A plain-HTTP route run through the pipeline: `handle` gets the request and a signal that
 * aborts when the client goes away or the grace period is over; what it throws is mapped
 * like an RPC's error and answered by `reply`.
 */
export function pipelineRoute(
  pipeline: CallPipeline,
  options: {
    /** A name for the routes' group, as access and the metrics see it ("openai", "metrics"). */
    readonly service: string;
    readonly shutdownSignal: AbortSignal;
    /**
     * Answers a failed call in the route's own format, if the response can still be written,
     * and returns its HTTP status (the one logged when the client has already gone).
     */
    readonly replyError: (res: Parameters<HttpRoute>[1], error: ConnectError, req: Parameters<HttpRoute>[0]) => number;
  },
  /** `signal` aborts when the client leaves or the grace period is over; `client` is who calls. */
  handle: (req: Parameters<HttpRoute>[0], res: Parameters<HttpRoute>[1], call: { signal: AbortSignal; client: string }) => Promise<void>,
): HttpRoute {
  return (req, res) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    const offered = req.headers[REQUEST_ID_HEADER];
    const call = pipeline.begin({ http: { method: req.method ?? "", path } }, typeof offered === "string" ? offered : undefined);
    call.taken = true;
    res.setHeader(REQUEST_ID_HEADER, call.requestId);
    const clientLeft = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) clientLeft.abort(new ConnectError("call ended by the client", Code.Canceled));
    });
    const signal = AbortSignal.any([clientLeft.signal, options.shutdownSignal]);
    const run = async (): Promise<void> => {
      const client = pipeline.admit({
        service: options.service,
        method: `${req.method} ${path}`,
        authorization: req.headers.authorization,
        peer: req.socket?.remoteAddress ?? "unknown",
      });
      await handle(req, res, { signal, client });
    };
    untilAborted(run(), signal).then(
      () => {
        const finish = () => pipeline.finish(call, undefined, res.statusCode);
        if (res.writableFinished || res.destroyed) finish();
        else res.once("close", finish);
      },
      (err: unknown) => {
        const error = toConnectError(err);
        pipeline.finish(call, error, options.replyError(res, error, req));
      },
    );
  };
}

/** A failed plain-HTTP call answered as text: the status for its code, its message, and how to authenticate. */
export function plainTextError(res: Parameters<HttpRoute>[1], error: ConnectError): number {
  const cause = error.cause;
  const status = cause instanceof MethodNotAllowedError ? 405 : codeToHttpStatus(error.code);
  if (res.destroyed || res.headersSent) return status;
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
    ...(cause instanceof MethodNotAllowedError ? { allow: cause.allowed } : {}),
    ...(error.code === Code.Unauthenticated ? { "www-authenticate": "Bearer" } : {}),
  });
  res.end(`${error.rawMessage}\n`);
  return status;
}

// Codes that mean the server is at fault rather than the request.
const SERVER_FAULTS = new Set([Code.Internal, Code.Unknown, Code.DataLoss]);

function isServerFault(code: Code): boolean {
  return SERVER_FAULTS.has(code);
}

/** The server-side detail of a client error (a file path, a library's message), for the log. */
function causeOf(error: ConnectError): string | undefined {
  const cause = (error.cause as { cause?: unknown } | undefined)?.cause;
  return cause instanceof Error ? cause.message : undefined;
}

/** Code.ResourceExhausted → "resource_exhausted", the names the Connect protocol uses. */
export function codeName(code: Code): string {
  return Code[code].replace(/(?<=[a-z])(?=[A-Z])/g, "_").toLowerCase();
}

/**
 * A request stream whose messages do not decode: Connect raises INTERNAL while the
 * implementation reads it, but the request never reached the service, so it is the caller's
 * INVALID_ARGUMENT. Other failures of the read (too large, cancelled) keep their status.
 */
async function* decodedOrRefused<T>(messages: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* messages;
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.Internal) throw undecodable(err);
    throw err;
  }
}

/** The typed error for a request Connect could not decode. */
export function undecodable(error: ConnectError): InvalidArgumentError {
  return new InvalidArgumentError("request", `cannot be decoded: ${error.rawMessage}`, { cause: error });
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

/** `pending`, or the abort's reason once `signal` aborts first. */
function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const abort = (): void => reject(ConnectError.from(signal.reason));
    if (signal.aborted) abort();
    signal.addEventListener("abort", abort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

/** Ends a response stream with the abort's reason once `signal` aborts, even if the implementation does not watch it. */
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
    // Stop an implementation left behind. Its late failure has no caller left to go to.
    if (!finished) iterator.return?.().catch(() => {});
  }
}

async function* observed<T>(messages: AsyncIterable<T>, observe: (message: T) => void): AsyncGenerator<T> {
  for await (const message of messages) {
    observe(message);
    yield message;
  }
}

/**
 * Passes a response stream through, rethrowing its error as convert(error), and calls end
 * once the stream is over, however it ends.
 */
async function* endsWith<T>(
  messages: AsyncIterable<T>,
  convert: (err: unknown) => ConnectError,
  end: (error: ConnectError | undefined) => void,
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
    end(outcome);
  }
}
