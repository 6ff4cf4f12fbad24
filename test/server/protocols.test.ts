// One port, every protocol: Connect over HTTP/1.1 and HTTP/2, gRPC, gRPC-Web,
// and an independent gRPC implementation (@grpc/grpc-js).

import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethod,
  type Message,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import { Code, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ListVoicesResponseSchema, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { callError, startServer, type RunningServer } from "./running-server.js";

let running: RunningServer;
beforeAll(async () => {
  running = await startServer({ PIPER_MODEL_NAME: "de_DE-thorsten-medium" });
  running.health.markServing();
});
afterAll(() => running.server.close());

const transports: Record<string, () => Transport> = {
  "Connect over HTTP/1.1": () => createConnectTransport({ baseUrl: running.baseUrl, httpVersion: "1.1" }),
  "Connect over HTTP/2": () => createConnectTransport({ baseUrl: running.baseUrl, httpVersion: "2" }),
  "gRPC": () => createGrpcTransport({ baseUrl: running.baseUrl }),
  "gRPC-Web over HTTP/1.1": () => createGrpcWebTransport({ baseUrl: running.baseUrl, httpVersion: "1.1" }),
};

describe.each(Object.entries(transports))("%s", (_name, makeTransport) => {
  it("answers ListVoices with the configured default voice", async () => {
    const client = createClient(TtsService, makeTransport());
    const response = await client.listVoices({});
    expect(response.defaultVoice).toBe("de_DE-thorsten-medium");
    expect(response.voices).toEqual([]);
  });

  it("refuses Synthesize with UNAVAILABLE while no engine is wired", async () => {
    const client = createClient(TtsService, makeTransport());
    const error = await callError(client.synthesize({ text: "Hallo" }));
    expect(error.code).toBe(Code.Unavailable);
    expect(error.rawMessage).toBe("engine not wired yet");
  });

  it("echoes the caller's x-request-id and logs the call under it", async () => {
    const client = createClient(TtsService, makeTransport());
    const requestId = `test-${Math.random().toString(36).slice(2)}`;
    let echoed: string | null = null;
    await client.getCacheStats({}, { headers: { "x-request-id": requestId }, onHeader: (h) => (echoed = h.get("x-request-id")) });
    expect(echoed).toBe(requestId);
    const lines = running.logLines.filter((line) => line.request_id === requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ method: "aetheros.tts.v1.TtsService/GetCacheStats", code: "ok", msg: "rpc" });
    expect(lines[0]?.duration_ms).toEqual(expect.any(Number));
  });
});

describe("request ids", () => {
  it("makes one up when the caller sends none, and sends it back", async () => {
    const client = createClient(TtsService, transports["Connect over HTTP/1.1"]!());
    let echoed: string | null = null;
    await client.health({}, { onHeader: (h) => (echoed = h.get("x-request-id")) });
    expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
    expect(running.logLines.filter((line) => line.request_id === echoed)).toHaveLength(1);
  });

  it("returns it with a failed call too, and logs the failure's code", async () => {
    const client = createClient(TtsService, transports["Connect over HTTP/1.1"]!());
    const error = await callError(client.synthesize({ text: "x" }, { headers: { "x-request-id": "failed-call-1" } }));
    expect(error.metadata.get("x-request-id")).toBe("failed-call-1");
    expect(running.logLines.find((line) => line.request_id === "failed-call-1")).toMatchObject({
      method: "aetheros.tts.v1.TtsService/Synthesize",
      code: "unavailable",
    });
  });

  it("replaces an id that could corrupt the logs", async () => {
    const client = createClient(TtsService, transports["Connect over HTTP/1.1"]!());
    let echoed: string | null = null;
    await client.health({}, { headers: { "x-request-id": "a b\"c" }, onHeader: (h) => (echoed = h.get("x-request-id")) });
    expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("Connect GET for a NO_SIDE_EFFECTS method", () => {
  it("serves ListVoices to a plain HTTP GET", async () => {
    const message = encodeURIComponent("{}");
    const response = await fetch(`${running.baseUrl}/aetheros.tts.v1.TtsService/ListVoices?encoding=json&message=${message}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ defaultVoice: "de_DE-thorsten-medium" });
  });
});

describe("@grpc/grpc-js client", () => {
  // A generic grpc-js client for TtsService, serializing with protobuf-es.
  function grpcJsClient(): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
    const definition: Record<string, grpc.MethodDefinition<MessageInitShape<DescMessage>, Message>> = {};
    for (const method of TtsService.methods as DescMethod[]) {
      definition[method.localName] = {
        path: `/${TtsService.typeName}/${method.name}`,
        requestStream: false,
        responseStream: method.methodKind === "server_streaming",
        requestSerialize: (value) => Buffer.from(toBinary(method.input, create(method.input, value))),
        requestDeserialize: (bytes) => fromBinary(method.input, bytes),
        responseSerialize: (value) => Buffer.from(toBinary(method.output, value)),
        responseDeserialize: (bytes) => fromBinary(method.output, bytes),
      };
    }
    const Client = grpc.makeGenericClientConstructor(definition, TtsService.name);
    return new Client(`127.0.0.1:${running.server.port}`, grpc.credentials.createInsecure()) as never;
  }

  it("calls ListVoices", async () => {
    const client = grpcJsClient();
    const response = await new Promise((resolve, reject) =>
      client.listVoices!({}, (err: grpc.ServiceError | null, value: unknown) => (err ? reject(err) : resolve(value))),
    );
    expect(response).toMatchObject({ $typeName: ListVoicesResponseSchema.typeName, defaultVoice: "de_DE-thorsten-medium" });
    client.close();
  });

  it("gets UNAVAILABLE with the server's message from SynthesizeStream", async () => {
    const client = grpcJsClient();
    const call = client.synthesizeStream!({ text: "Hallo" }) as grpc.ClientReadableStream<unknown>;
    const received: unknown[] = [];
    call.on("data", (message) => received.push(message));
    const error = await new Promise<grpc.ServiceError>((resolve) => call.on("error", resolve));
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.details).toBe("engine not wired yet");
    expect(received).toEqual([]);
    client.close();
  });
});
