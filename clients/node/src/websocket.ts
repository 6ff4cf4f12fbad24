/**
 * The live session's channel for browsers: StreamingSynthesize's messages over the server's
 * WebSocket route (GET /v1/stream), one per text frame in the Protobuf JSON mapping. gRPC-Web
 * and Connect over fetch have no bidi streams, hence a WebSocket.
 *
 * The server treats a client's close as the end of the conversation (its syntheses stop), not
 * a half-close; the session closes the socket only once every utterance has ended, which is
 * what `close()` means on the RPC too. The server's close codes become ConnectErrors: 1008
 * and 1011 carry "STATUS_NAME: message", anything else without a reason is UNAVAILABLE.
 */
import { fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type StreamingSynthesizeRequest,
  StreamingSynthesizeRequestSchema,
  type StreamingSynthesizeResponse,
  StreamingSynthesizeResponseSchema,
} from "../../../gen/aetheros/tts/v1/tts_pb.js";
import type { LiveChannel } from "./live.js";

/** The route and its subprotocol, as the server names them. */
export const LIVE_STREAM_PATH = "/v1/stream";
export const LIVE_SUBPROTOCOL = "aetheros.tts.v1";

/**
 * What the session uses of a WebSocket: the browser's, Node 22's global one, or the `ws`
 * package's (`import WebSocket from "ws"`) on Node 20.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "message" | "close" | "error", listener: (event: WebSocketEventLike) => void): void;
}

export interface WebSocketEventLike {
  readonly type: string;
  /** message: the frame (a string for text frames). */
  readonly data?: unknown;
  /** close: the code and reason of the close frame. */
  readonly code?: number;
  readonly reason?: string;
  /** error, in the `ws` package: what went wrong (a browser says nothing). */
  readonly message?: string;
}

export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

const OPEN = 1;
const NORMAL_CLOSURE = 1000;
// A close code of the application range (3000-4999 is what a browser may send): the caller gave up.
const CANCELED_CLOSURE = 4000;

/** ws://host/v1/stream for http://host (wss:// for https://), under the base URL's path. */
export function liveStreamUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = `${url.pathname.replace(/\/$/, "")}${LIVE_STREAM_PATH}`;
  return url.href;
}

/** Opens the socket and returns the session's channel; `config` is its first frame. */
export function webSocketChannel(
  WebSocketImpl: WebSocketConstructor,
  url: string,
  apiKey: string | undefined,
  config: StreamingSynthesizeRequest,
  signal: AbortSignal | undefined,
): LiveChannel {
  // A browser cannot set headers on a WebSocket: the key travels as a subprotocol.
  const socket = new WebSocketImpl(url, apiKey === undefined ? [LIVE_SUBPROTOCOL] : [LIVE_SUBPROTOCOL, `bearer.${apiKey}`]);
  const unsent: string[] = [toJsonString(StreamingSynthesizeRequestSchema, config)];
  const received: StreamingSynthesizeResponse[] = [];
  let outcome: { error: ConnectError | undefined } | undefined;
  let finishRequested = false;
  let lastError = "";
  let wake: (() => void) | undefined;
  const settle = (error: ConnectError | undefined) => {
    outcome ??= { error };
    wake?.();
  };

  socket.addEventListener("open", () => {
    for (const frame of unsent.splice(0)) socket.send(frame);
    if (finishRequested) socket.close(NORMAL_CLOSURE);
  });
  socket.addEventListener("message", ({ data }) => {
    if (typeof data !== "string") return settle(new ConnectError("the server sent a binary frame to a JSON session", Code.Internal));
    try {
      received.push(fromJsonString(StreamingSynthesizeResponseSchema, data, { ignoreUnknownFields: true }));
    } catch (error) {
      return settle(new ConnectError(`a frame from the server does not decode: ${(error as Error).message}`, Code.Internal));
    }
    wake?.();
  });
  socket.addEventListener("error", ({ message }) => {
    lastError = message ?? "";
  });
  socket.addEventListener("close", ({ code = 1006, reason = "" }) => {
    settle(code === NORMAL_CLOSURE ? undefined : closeError(code, reason, url, lastError));
  });
  signal?.addEventListener(
    "abort",
    () => {
      socket.close(CANCELED_CLOSURE, "canceled");
      settle(ConnectError.from(signal.reason ?? new ConnectError("the live session was canceled", Code.Canceled)));
    },
    { once: true },
  );

  return {
    send(request) {
      const frame = toJsonString(StreamingSynthesizeRequestSchema, request);
      if (socket.readyState === OPEN) socket.send(frame);
      else unsent.push(frame);
    },
    finish() {
      finishRequested = true;
      if (socket.readyState === OPEN) socket.close(NORMAL_CLOSURE);
    },
    responses: {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const next = received.shift();
            if (next !== undefined) yield next;
            else if (outcome?.error) throw outcome.error;
            else if (outcome) return;
            else await new Promise<void>((resolve) => (wake = resolve));
          }
        } finally {
          // The caller stopped reading (or the session is over): no more speech.
          if (outcome === undefined) {
            socket.close(CANCELED_CLOSURE, "canceled");
            settle(new ConnectError("the live session was canceled", Code.Canceled));
          }
        }
      },
    },
  };
}

/** The status in a close from the server ("INVALID_ARGUMENT: message"), or what the closing says. */
function closeError(code: number, reason: string, url: string, lastError: string): ConnectError {
  const named = /^([A-Z_]+): (.*)$/s.exec(reason);
  if (named) {
    const key = named[1]!.toLowerCase().replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
    const status = Code[(key.charAt(0).toUpperCase() + key.slice(1)) as keyof typeof Code];
    return new ConnectError(named[2]!, status ?? Code.Unknown);
  }
  const detail = lastError === "" ? "" : `: ${lastError}`;
  return new ConnectError(`the WebSocket ${url} closed with ${code}${reason === "" ? "" : ` (${reason})`}${detail}`, Code.Unavailable);
}
