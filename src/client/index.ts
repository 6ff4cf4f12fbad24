/**
 * The typed TtsService client for sibling services and browsers, built on the generated
 * code. Node callers pick gRPC (the default: HTTP/2, what other microservices speak) or
 * Connect; browsers import `createTtsWebClient` from "@aetheros/tts/client/web".
 *
 *   const tts = createTtsClient({ baseUrl: "http://tts:8002" });
 *   const { audio } = await tts.synthesize({ text: "Hello" }, { timeoutMs: 2000 });
 *   for await (const message of tts.synthesizeStream({ text })) { ... }
 */
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { bearer } from "./bearer.js";

export * from "../../gen/aetheros/tts/v1/tts_pb.js";
export type TtsClient = Client<typeof TtsService>;
export { bearer };

export interface TtsClientOptions {
  /** For example "http://tts.default.svc:8002" (or https:// with TLS). */
  baseUrl: string;
  /** "grpc" (default) or "connect" (HTTP/1.1 or HTTP/2 with JSON or binary). */
  protocol?: "grpc" | "connect";
  /** Sent as `authorization: Bearer <apiKey>` when the server has API keys on. */
  apiKey?: string;
  /** Default deadline for every call, in milliseconds; a call's own timeoutMs wins. */
  defaultTimeoutMs?: number;
  interceptors?: Interceptor[];
}

export function createTtsClient(options: TtsClientOptions): TtsClient {
  const interceptors = [...(options.apiKey ? [bearer(options.apiKey)] : []), ...(options.interceptors ?? [])];
  const common = { baseUrl: options.baseUrl, interceptors, defaultTimeoutMs: options.defaultTimeoutMs };
  const transport = options.protocol === "connect" ? createConnectTransport({ ...common, httpVersion: "2" }) : createGrpcTransport(common);
  return createClient(TtsService, transport);
}
