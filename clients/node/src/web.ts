/**
 * The browser client: Connect (binary Protobuf over fetch) or gRPC-Web, through
 * @connectrpc/connect-web, with the same API key, retries and helpers as the Node client.
 * Connect's JSON would carry the audio as base64: a third more bytes and a decode per chunk.
 * Live speech (`liveSession`) needs a bidi stream, which fetch has not: it goes over the
 * server's WebSocket route instead, behind the same session object as the Node client's.
 */
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { TtsService } from "../../../gen/aetheros/tts/v1/tts_pb.js";
import { helpers, type TtsHelpers } from "./helpers.js";
import { clientInterceptors, type RetryOptions } from "./interceptors.js";
import { type LiveSession, type LiveSessionOptions, liveSessionOver } from "./live.js";
import { liveStreamUrl, type WebSocketConstructor, webSocketChannel } from "./websocket.js";

export * from "./shared-exports.js";
export { LIVE_STREAM_PATH, LIVE_SUBPROTOCOL, liveStreamUrl, type WebSocketConstructor, type WebSocketLike } from "./websocket.js";

export interface TtsWebClientOptions {
  baseUrl: string;
  protocol?: "connect" | "grpc-web";
  apiKey?: string;
  defaultTimeoutMs?: number;
  retry?: RetryOptions | false;
  interceptors?: Interceptor[];
  /**
   * The WebSocket class for live sessions: the global one by default (browsers, Node 22);
   * on Node 20, `WebSocket` from the `ws` package.
   */
  webSocket?: WebSocketConstructor;
}

export type TtsWebClient = Client<typeof TtsService> &
  TtsHelpers & {
    /**
     * Live speech over the WebSocket route (ws(s)://<baseUrl>/v1/stream, JSON frames; the API
     * key as the subprotocol "bearer.<key>"): the Node client's session object, with the same
     * events. Interceptors and retries do not apply to it.
     */
    liveSession(options?: LiveSessionOptions): LiveSession;
  };

export function createTtsWebClient(options: TtsWebClientOptions): TtsWebClient {
  const interceptors = clientInterceptors(options);
  const common = {
    baseUrl: options.baseUrl,
    interceptors,
    ...(options.defaultTimeoutMs === undefined ? {} : { defaultTimeoutMs: options.defaultTimeoutMs }),
  };
  const transport =
    options.protocol === "grpc-web" ? createGrpcWebTransport(common) : createConnectTransport({ ...common, useBinaryFormat: true });
  const client = createClient(TtsService, transport);
  const liveSession = (sessionOptions: LiveSessionOptions = {}) => {
    const WebSocketImpl = options.webSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocketImpl === undefined) {
      throw new Error(
        "liveSession: this runtime has no global WebSocket; pass createTtsWebClient({ webSocket }) (on Node 20: the `ws` package's)",
      );
    }
    return liveSessionOver(sessionOptions, (config) =>
      webSocketChannel(WebSocketImpl, liveStreamUrl(options.baseUrl), options.apiKey, config, sessionOptions.signal),
    );
  };
  return Object.assign(client, helpers(client), { liveSession });
}
