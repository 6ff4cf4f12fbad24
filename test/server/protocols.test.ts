// One port, every protocol: Connect over HTTP/1.1 and HTTP/2, gRPC, gRPC-Web,
// and an independent gRPC implementation (@grpc/grpc-js).

import { Code, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ListVoicesResponseSchema, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { grpcJsClient } from "../synthesis/support.js";
import { callError, startServer, type RunningServer } from "./running-server.js";

let running: RunningServer;
beforeAll(async () => {
  running = await startServer();
});
afterAll(() => running.app.close());

const transports: Record<string, () => Transport> = {
  "Connect over HTTP/1.1": () => createConnectTransport({ baseUrl: running.baseUrl, httpVersion: "1.1" }),
  "Connect over HTTP/2": () => createConnectTransport({ baseUrl: running.baseUrl, httpVersion: "2" }),
  gRPC: () => createGrpcTransport({ baseUrl: running.baseUrl }),
  "gRPC-Web over HTTP/1.1": () => createGrpcWebTransport({ baseUrl: running.baseUrl, httpVersion: "1.1" }),
};

describe.each(Object.entries(transports))("%s", (_name, makeTransport) => {
  it("answers ListVoices with the installed default voice", async () => {
    const client = createClient(TtsService, makeTransport());
    const response = await client.listVoices({});
    expect(response.defaultVoice).toBe("en_US-joe-medium");
    expect(response.voices.map((voice) => voice.id)).toContain("en_US-joe-medium");
  });

  it("synthesizes a WAV file", async () => {
    const client = createClient(TtsService, makeTransport());
    const response = await client.synthesize({ text: "Hello from every protocol." });
    expect(Buffer.from(response.audio.subarray(0, 4)).toString("latin1")).toBe("RIFF");
    expect(response).toMatchObject({ sampleRate: 22050, modelUsed: "piper:en_US-joe-medium", cached: false, textLength: 26 });
    expect(response.durationSeconds).toBeGreaterThan(1);
  });

  it("refuses an out-of-range speed with INVALID_ARGUMENT naming the field, value and range", async () => {
    const client = createClient(TtsService, makeTransport());
    const error = await callError(client.synthesize({ text: "Hello", config: { speed: 3 } }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("config.speed: 3 is out of range; allowed 0.5 to 2.0");
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
    const error = await callError(client.synthesize({ text: "" }, { headers: { "x-request-id": "failed-call-1" } }));
    expect(error.metadata.get("x-request-id")).toBe("failed-call-1");
    expect(running.logLines.find((line) => line.request_id === "failed-call-1")).toMatchObject({
      method: "aetheros.tts.v1.TtsService/Synthesize",
      code: "invalid_argument",
    });
  });

  it("replaces an id that could corrupt the logs", async () => {
    const client = createClient(TtsService, transports["Connect over HTTP/1.1"]!());
    let echoed: string | null = null;
    await client.health({}, { headers: { "x-request-id": 'a b"c' }, onHeader: (h) => (echoed = h.get("x-request-id")) });
    expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("Connect GET for a NO_SIDE_EFFECTS method", () => {
  it("serves ListVoices to a plain HTTP GET", async () => {
    const message = encodeURIComponent("{}");
    const response = await fetch(`${running.baseUrl}/aetheros.tts.v1.TtsService/ListVoices?encoding=json&message=${message}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { defaultVoice: string; voices: { id: string }[] };
    expect(body.defaultVoice).toBe("en_US-joe-medium");
    expect(body.voices.map((voice) => voice.id)).toContain("en_US-joe-medium");
  });
});

describe("@grpc/grpc-js client", () => {
  it("calls ListVoices", async () => {
    const client = grpcJsClient(running);
    const response = await new Promise((resolve, reject) =>
      client.listVoices!({}, (err: grpc.ServiceError | null, value: unknown) => (err ? reject(err) : resolve(value))),
    );
    expect(response).toMatchObject({ $typeName: ListVoicesResponseSchema.typeName, defaultVoice: "en_US-joe-medium" });
    client.close();
  });

  it("receives a whole SynthesizeStream: start, audio chunks, summary", async () => {
    const client = grpcJsClient(running);
    const call = client.synthesizeStream!({ text: "One sentence. And another one." }) as grpc.ClientReadableStream<{
      event: { case: string };
    }>;
    const cases: string[] = [];
    call.on("data", (message: { event: { case: string } }) => cases.push(message.event.case));
    await new Promise((resolve, reject) => call.on("end", resolve).on("error", reject));
    expect(cases[0]).toBe("start");
    expect(cases.at(-1)).toBe("summary");
    expect(cases.slice(1, -1).every((c) => c === "chunk") && cases.length > 3).toBe(true);
    client.close();
  });

  it("gets INVALID_ARGUMENT with the server's message from SynthesizeStream", async () => {
    const client = grpcJsClient(running);
    const call = client.synthesizeStream!({ text: "Hallo", config: { pitch: 0.1 } }) as grpc.ClientReadableStream<unknown>;
    const received: unknown[] = [];
    call.on("data", (message) => received.push(message));
    const error = await new Promise<grpc.ServiceError>((resolve) => call.on("error", resolve));
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    // Connect percent-encodes grpc-message with encodeURIComponent; grpc-js decodes it with
    // decodeURI, which leaves reserved characters such as ":" and ";" encoded.
    expect(error.details).toBe("config.pitch%3A 0.1 is out of range%3B allowed 0.5 to 2.0");
    expect(decodeURIComponent(error.details)).toBe("config.pitch: 0.1 is out of range; allowed 0.5 to 2.0");
    expect(received).toEqual([]);
    client.close();
  });
});
