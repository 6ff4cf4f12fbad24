/**
 * The browser client: Connect (binary Protobuf over fetch) or gRPC-Web, through
 * @connectrpc/connect-web. Streams are async iterables, as in Node. Connect's JSON would
 * carry the audio as base64: a third more bytes and a decode per chunk.
 */
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { bearer } from "./bearer.js";

export * from "../../gen/aetheros/tts/v1/tts_pb.js";

export interface TtsWebClientOptions {
  baseUrl: string;
  protocol?: "connect" | "grpc-web";
  apiKey?: string;
}

export function createTtsWebClient(options: TtsWebClientOptions): Client<typeof TtsService> {
  const interceptors = options.apiKey ? [bearer(options.apiKey)] : [];
  const transport =
    options.protocol === "grpc-web"
      ? createGrpcWebTransport({ baseUrl: options.baseUrl, interceptors })
      : createConnectTransport({ baseUrl: options.baseUrl, interceptors, useBinaryFormat: true });
  return createClient(TtsService, transport);
}
