/**
 * The typed TtsService client for Node services. It speaks gRPC (the default: HTTP/2, what
 * other microservices speak) or Connect; browsers import `createTtsWebClient` from
 * "@aetheros/tts-client/web".
 *
 *   const tts = createTtsClient({ baseUrl: "http://tts:8002", defaultTimeoutMs: 10_000 });
 *   await tts.synthesizeToFile("hello.wav", { text: "Hello" });
 *   for await (const audio of tts.audioStream({ text })) { ... }
 *   const live = tts.liveSession({ config });  // text in as a language model writes it (./live.ts)
 */
import { createWriteStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import type * as http2 from "node:http2";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type CallOptions, type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { type StreamingSynthesizeRequest, type SynthesizeResponse, TtsService } from "../../../gen/aetheros/tts/v1/tts_pb.js";
import { helpers, type SynthesizeRequestInit, type SynthesizeStreamRequestInit, type TtsHelpers } from "./helpers.js";
import { clientInterceptors, type RetryOptions } from "./interceptors.js";
import { type LiveSession, type LiveSessionOptions, liveSessionOver } from "./live.js";
import { RequestQueue } from "./request-queue.js";

export * from "./shared-exports.js";
export { RequestQueue } from "./request-queue.js";

export interface TtsClientOptions {
  /** For example "http://tts.default.svc:8002", or "https://…" for TLS. */
  baseUrl: string;
  /** "grpc" (default) or "connect" (binary Protobuf over HTTP/2). */
  protocol?: "grpc" | "connect";
  /** Sent as `authorization: Bearer <apiKey>` when the server has API keys on. */
  apiKey?: string;
  /** Default deadline for every call, in milliseconds; a call's own timeoutMs wins. */
  defaultTimeoutMs?: number;
  /** Retries of RESOURCE_EXHAUSTED and UNAVAILABLE (on by default, 3 attempts in all); false turns them off. */
  retry?: RetryOptions | false;
  /** For https:// base URLs: the CA that signed the server's certificate, and a client certificate when the server asks for one. */
  tls?: Pick<http2.SecureClientSessionOptions, "ca" | "cert" | "key" | "servername" | "rejectUnauthorized">;
  /**
   * HTTP/2 flow-control window, in bytes, of each call (the connection's is twice it).
   * Node's default of 64 KiB makes a few hundred kilobytes of audio wait for window updates
   * at every 64 KiB; the default of 4 MiB lets a whole sentence of WAV arrive in one go.
   */
  windowBytes?: number;
  /** Run after the client's own (API key, retries): they see every attempt. */
  interceptors?: Interceptor[];
}

export const DEFAULT_WINDOW_BYTES = 4 * 1024 * 1024;

export type TtsClient = Client<typeof TtsService> & TtsNodeHelpers;

export interface TtsNodeHelpers extends TtsHelpers {
  /** Synthesize into a file; resolves with the response (duration, encoding, …) once the file is written. */
  synthesizeToFile(path: string, request: SynthesizeRequestInit, options?: CallOptions): Promise<SynthesizeResponse>;
  /** SynthesizeStream's audio as a Node Readable of bytes (pipe it to a file, a socket or a player); a failed call destroys it with the error. */
  audioReadable(request: SynthesizeStreamRequestInit, options?: CallOptions): Readable;
  /** Writes SynthesizeStream's audio to a file as it arrives. */
  streamToFile(path: string, request: SynthesizeStreamRequestInit, options?: CallOptions): Promise<void>;
  /**
   * Live speech over StreamingSynthesize (a bidi call on HTTP/2): send text as it is written,
   * read audio, word timestamps and utterance ends as they come. The client's defaultTimeoutMs
   * does not apply (a session lasts a conversation; the server ends idle ones); `signal` ends
   * it. Never retried: its text is written as it runs.
   */
  liveSession(options?: LiveSessionOptions): LiveSession;
}

export function createTtsClient(options: TtsClientOptions): TtsClient {
  const interceptors = clientInterceptors(options);
  const windowBytes = options.windowBytes ?? DEFAULT_WINDOW_BYTES;
  const transportOptions = {
    baseUrl: options.baseUrl,
    interceptors,
    ...(options.defaultTimeoutMs === undefined ? {} : { defaultTimeoutMs: options.defaultTimeoutMs }),
    httpVersion: "2" as const,
    sessionManager: windowedSessionManager(options.baseUrl, windowBytes, {
      ...options.tls,
      settings: { initialWindowSize: windowBytes },
    }),
  };
  const transport =
    options.protocol === "connect"
      ? createConnectTransport({ ...transportOptions, useBinaryFormat: true })
      : createGrpcTransport(transportOptions);
  const client = createClient(TtsService, transport);
  const shared = helpers(client);
  const audioReadable = (request: SynthesizeStreamRequestInit, callOptions?: CallOptions) =>
    Readable.from(shared.audioStream(request, callOptions), { objectMode: false });
  return Object.assign(client, shared, {
    async synthesizeToFile(path: string, request: SynthesizeRequestInit, callOptions?: CallOptions) {
      const response = await client.synthesize(request, callOptions);
      await writeFile(path, response.audio);
      return response;
    },
    audioReadable,
    streamToFile(path: string, request: SynthesizeStreamRequestInit, callOptions?: CallOptions) {
      return pipeline(audioReadable(request, callOptions), createWriteStream(path));
    },
    liveSession(sessionOptions: LiveSessionOptions = {}) {
      return liveSessionOver(sessionOptions, (config) => {
        const requests = new RequestQueue<StreamingSynthesizeRequest>();
        requests.push(config);
        const signal = sessionOptions.signal;
        return {
          send: (request) => requests.push(request),
          finish: () => requests.end(),
          // timeoutMs 0: no deadline, whatever defaultTimeoutMs says.
          responses: client.streamingSynthesize(requests, { timeoutMs: 0, ...(signal === undefined ? {} : { signal }) }),
        };
      });
    },
  });
}

/**
 * Connect's HTTP/2 session manager, with the connection-level receive window raised once per
 * connection (Node sets only the per-stream window from options; the connection's needs
 * `setLocalWindowSize` on the open session).
 */
function windowedSessionManager(baseUrl: string, windowBytes: number, nodeOptions: http2.SecureClientSessionOptions) {
  const manager = new Http2SessionManager(baseUrl, {}, nodeOptions);
  const widened = new WeakSet<http2.Http2Session>();
  return {
    authority: manager.authority,
    notifyResponseByteRead: (stream: http2.ClientHttp2Stream) => manager.notifyResponseByteRead(stream),
    async request(...args: Parameters<Http2SessionManager["request"]>) {
      const stream = await manager.request(...args);
      const session = stream.session;
      if (session !== undefined && !widened.has(session)) {
        widened.add(session);
        session.setLocalWindowSize(2 * windowBytes);
      }
      return stream;
    },
  };
}
