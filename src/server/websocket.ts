// StreamingSynthesize over WebSocket, for browsers (gRPC-Web and Connect over HTTP/1.1 have
// no bidi streams): GET /v1/stream upgraded on the service port. The messages are the RPC's
// (StreamingSynthesizeRequest in, StreamingSynthesizeResponse out), one per frame: a text frame
// holds the Protobuf JSON mapping, a binary frame binary Protobuf; the server answers in the
// format of the client's first message. The session is the RPC's own (createLiveStream), and
// the call goes through the pipeline like an RPC: request id, drain, API key, rate, one log
// line and metric sample as aetheros.tts.v1.TtsService/StreamingSynthesize.
//
// Decisions:
// - API key: "Authorization: Bearer <key>" as for the RPCs, or, from a browser (which cannot
//   set headers here), the subprotocols ["aetheros.tts.v1", "bearer.<key>"]; the server
//   answers with "aetheros.tts.v1" only. Not a query parameter: URLs end up in proxy logs and
//   browser history. A refused key gets its HTTP status (401, 403, 429) before any upgrade.
// - Endings: the server closes with 1000 once the session is over; with 1008 (policy
//   violation) for the caller's error (a frame that does not decode, a protocol mistake,
//   a limit) and 1011 for the server's (or its shutdown), the reason "STATUS_NAME: message"
//   cut to the 123 bytes a close frame holds.
// - A client's close is the end of the conversation, not a half-close (WebSocket sends nothing
//   after a close): its syntheses stop at once. So a client waits for utterance_end before it
//   closes. A close with 1000 is logged "ok", any other (or a dropped connection) "canceled".

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import {
  type StreamingSynthesizeRequest,
  StreamingSynthesizeRequestSchema,
  StreamingSynthesizeResponseSchema,
  TtsService,
} from "../../gen/aetheros/tts/v1/tts_pb.js";
import { InvalidArgumentError } from "../errors/index.js";
import { type CallPipeline, codeName, REQUEST_ID_HEADER } from "./pipeline.js";
import type { HttpRoute } from "./routes.js";
import { RETRY_AFTER_HEADER, toConnectError } from "./status.js";
import type { LiveStream } from "./tts-service.js";

export const STREAM_PATH = "/v1/stream";
export const SUBPROTOCOL = "aetheros.tts.v1";
const KEY_PROTOCOL_PREFIX = "bearer.";

const KIND = { rpc: { service: TtsService.typeName, method: TtsService.method.streamingSynthesize.name, type: "bidi_stream" } };

// Requests read ahead of the session before the socket stops reading.
const READ_AHEAD = 64;
// A close frame's reason holds at most 123 bytes.
const MAX_REASON_BYTES = 123;

export interface WebSocketDeps {
  readonly liveStream: LiveStream;
  readonly pipeline: CallPipeline;
  /** Counts a session in flight until it ends, so that shutdown waits for it. */
  readonly hold: () => () => void;
  readonly shutdownSignal: AbortSignal;
  /** MAX_REQUEST_BYTES: the largest frame read. */
  readonly maxFrameBytes: number;
}

/** Takes the upgrade requests of the service port: GET /v1/stream becomes a session, any other path 404. */
export function webSocketUpgrade(deps: WebSocketDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: deps.maxFrameBytes,
    handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  return (req, socket, head) => {
    if (pathOf(req) !== STREAM_PATH) return refuse(socket, 404, "not found");
    const offered = req.headers[REQUEST_ID_HEADER];
    const call = deps.pipeline.begin(KIND, typeof offered === "string" ? offered : undefined);
    call.taken = true;
    let client: string;
    try {
      client = deps.pipeline.admit({
        service: KIND.rpc.service,
        method: KIND.rpc.method,
        authorization: req.headers.authorization ?? keyFromProtocols(req.headers["sec-websocket-protocol"]),
        peer: req.socket.remoteAddress ?? "unknown",
      });
    } catch (err) {
      const error = toConnectError(err);
      const status = codeToHttpStatus(error.code);
      refuse(socket, status, error.rawMessage, {
        [REQUEST_ID_HEADER]: call.requestId,
        ...(error.code === Code.Unauthenticated ? { "www-authenticate": "Bearer" } : {}),
        ...(error.metadata.has(RETRY_AFTER_HEADER) ? { [RETRY_AFTER_HEADER]: error.metadata.get(RETRY_AFTER_HEADER)! } : {}),
      });
      deps.pipeline.finish(call, error, status);
      return;
    }
    const release = deps.hold();
    let upgraded = false;
    // handleUpgrade answers a bad handshake (400) itself and never calls back.
    socket.once("close", () => {
      if (upgraded) return;
      deps.pipeline.finish(call, new ConnectError("not a WebSocket handshake", Code.InvalidArgument), 400);
      release();
    });
    const tagResponse = (headers: string[], request: IncomingMessage): void => {
      if (request === req) headers.push(`${REQUEST_ID_HEADER}: ${call.requestId}`);
    };
    server.on("headers", tagResponse);
    server.handleUpgrade(req, socket, head, (ws) => {
      upgraded = true;
      serve(ws, deps, client).then((error) => {
        deps.pipeline.finish(call, error);
        release();
      });
    });
    server.off("headers", tagResponse);
  };
}

/** Runs one session on an open socket; resolves with its error, undefined when it ended well. */
async function serve(ws: WebSocket, deps: WebSocketDeps, client: string): Promise<ConnectError | undefined> {
  const clientLeft = new AbortController();
  let clientCloseCode: number | undefined;
  ws.once("close", (code) => {
    clientCloseCode = code;
    clientLeft.abort(new ConnectError("call ended by the client", Code.Canceled));
  });
  const signal = AbortSignal.any([clientLeft.signal, deps.shutdownSignal]);
  const requests = new FrameQueue(ws);
  try {
    for await (const response of deps.liveStream(requests, signal, client)) {
      deps.pipeline.observeSpeech(response);
      await send(
        ws,
        requests.binary ? toBinary(StreamingSynthesizeResponseSchema, response) : toJsonString(StreamingSynthesizeResponseSchema, response),
      );
    }
    ws.close(1000);
    return undefined;
  } catch (err) {
    if (clientCloseCode !== undefined) return clientCloseCode === 1000 ? undefined : ConnectError.from(clientLeft.signal.reason);
    const error = signal.aborted ? ConnectError.from(signal.reason) : toConnectError(err);
    ws.close(isServerFault(error.code) ? 1011 : 1008, closeReason(error));
    return error;
  }
}

/** The requests of a socket, decoded frame by frame; the first frame's format is the answers'. */
class FrameQueue implements AsyncIterable<StreamingSynthesizeRequest> {
  binary: boolean | undefined;
  private readonly queued: (StreamingSynthesizeRequest | Error)[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(private readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      this.binary ??= isBinary;
      this.queued.push(decode(data, isBinary));
      if (this.queued.length >= READ_AHEAD) ws.pause();
      this.wake?.();
    });
    ws.once("close", () => {
      this.ended = true;
      this.wake?.();
    });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<StreamingSynthesizeRequest> {
    for (;;) {
      const next = this.queued.shift();
      if (this.queued.length < READ_AHEAD && this.ws.isPaused) this.ws.resume();
      if (next instanceof Error) throw next;
      if (next !== undefined) yield next;
      else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

function decode(data: RawData, isBinary: boolean): StreamingSynthesizeRequest | Error {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
  try {
    return isBinary
      ? fromBinary(StreamingSynthesizeRequestSchema, bytes)
      : fromJsonString(StreamingSynthesizeRequestSchema, bytes.toString("utf8"), { ignoreUnknownFields: false });
  } catch (err) {
    return new InvalidArgumentError("request", `cannot be decoded: ${(err as Error).message}`, { cause: err });
  }
}

function send(ws: WebSocket, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => ws.send(data, (err) => (err ? reject(err) : resolve())));
}

/** "INVALID_ARGUMENT: config: ...", cut to what a close frame holds without splitting a character. */
export function closeReason(error: ConnectError): string {
  const reason = Buffer.from(`${codeName(error.code).toUpperCase()}: ${error.rawMessage}`);
  if (reason.length <= MAX_REASON_BYTES) return reason.toString();
  return new TextDecoder().decode(reason.subarray(0, MAX_REASON_BYTES)).replace(/\uFFFD+$/, "");
}

const SERVER_FAULTS = new Set([Code.Internal, Code.Unknown, Code.DataLoss, Code.Unavailable]);

function isServerFault(code: Code): boolean {
  return SERVER_FAULTS.has(code);
}

/** A browser's key, sent as the subprotocol "bearer.<key>", as an authorization header. */
function keyFromProtocols(header: string | undefined): string | undefined {
  const key = header
    ?.split(",")
    .map((protocol) => protocol.trim())
    .find((protocol) => protocol.startsWith(KEY_PROTOCOL_PREFIX))
    ?.slice(KEY_PROTOCOL_PREFIX.length);
  return key === undefined ? undefined : `Bearer ${key}`;
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? "").split("?")[0] ?? "";
}

/** Answers an upgrade request with a plain HTTP status and closes the connection. */
function refuse(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = `${message}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}`,
    "connection: close",
    "content-type: text/plain; charset=utf-8",
    `content-length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  429: "Too Many Requests",
  503: "Service Unavailable",
};

/** GET /v1/stream without an upgrade: 426, saying how to ask. */
export async function upgradeRequired(_req: unknown, res: Parameters<HttpRoute>[1]): Promise<void> {
  res.writeHead(426, { upgrade: "websocket", connection: "Upgrade", "content-type": "text/plain; charset=utf-8" });
  res.end(`${STREAM_PATH} is a WebSocket endpoint: send GET with "Upgrade: websocket"\n`);
}
