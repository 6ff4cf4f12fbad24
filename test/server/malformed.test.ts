// Requests that are not the method's message, sent by real clients over each protocol: a
// string that is not UTF-8, a truncated varint, bad base64 in a Connect GET, an enum name
// or field the schema lacks in JSON. Each is the caller's INVALID_ARGUMENT (HTTP 400 over
// Connect), with one log line and one metric sample like any other call, and no message
// that shows a server path.

import { fromBinary } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { type RunningServer, startServer } from "./running-server.js";

const SYNTHESIZE = "/aetheros.tts.v1.TtsService/Synthesize";
const STREAM = "/aetheros.tts.v1.TtsService/SynthesizeStream";

// SynthesizeRequest bytes: field 1 (text) holding 0xff 0xfe; field 2 (config) whose field 4
// (encoding) is a varint cut off after a byte with its continuation bit set.
const INVALID_UTF8 = Uint8Array.of(0x0a, 0x02, 0xff, 0xfe);
const TRUNCATED_VARINT = Uint8Array.of(0x12, 0x02, 0x20, 0xff);

let running: RunningServer;
let grpcClient: grpc.Client;
beforeAll(async () => {
  running = await startServer();
  grpcClient = new grpc.Client(running.baseUrl.replace("http://", ""), grpc.credentials.createInsecure());
});
afterAll(async () => {
  grpcClient.close();
  await running.app.close();
});

/** A gRPC call whose request is `bytes` as they are, sent by @grpc/grpc-js. */
function grpcRaw(path: string, bytes: Uint8Array, stream: boolean): Promise<grpc.ServiceError> {
  return new Promise((resolve, reject) => {
    const serialize = (b: Uint8Array) => Buffer.from(b);
    const deserialize = (b: Buffer) => b;
    if (!stream) {
      grpcClient.makeUnaryRequest(path, serialize, deserialize, bytes, (error) =>
        error ? resolve(error) : reject(new Error("the call succeeded")),
      );
      return;
    }
    const call = grpcClient.makeServerStreamRequest(path, serialize, deserialize, bytes);
    call.on("data", () => reject(new Error("the stream sent a message")));
    call.on("error", (error: grpc.ServiceError) => resolve(error));
    call.on("end", () => reject(new Error("the stream ended without an error")));
  });
}

async function scrape(): Promise<string> {
  return (await fetch(`${running.baseUrl}/metrics`)).text();
}

function handled(metrics: string, method: string, type: string, code: string): number {
  const labels = `grpc_type="${type}",grpc_service="aetheros.tts.v1.TtsService",grpc_method="${method}",grpc_code="${code}"`;
  const line = metrics.split("\n").find((l) => l.startsWith(`grpc_server_handled_total{${labels}}`));
  return line === undefined ? 0 : Number(line.split(" ").pop());
}

/** Runs `send` and checks it left one invalid_argument log line and one metric sample for `method`. */
async function observedOnce(method: string, send: () => Promise<void>): Promise<Record<string, unknown>> {
  const type = method === "SynthesizeStream" ? "server_stream" : "unary";
  const before = handled(await scrape(), method, type, "InvalidArgument");
  const since = running.logLines.length;
  await send();
  const lines = running.logLines.slice(since).filter((l) => l.msg === "rpc" && l.method === `aetheros.tts.v1.TtsService/${method}`);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ code: "invalid_argument", level: 30 });
  expect(handled(await scrape(), method, type, "InvalidArgument") - before).toBe(1);
  return lines[0]!;
}

describe("gRPC (@grpc/grpc-js sending raw bytes)", () => {
  it.each([
    ["a string that is not UTF-8", INVALID_UTF8],
    ["a truncated varint", TRUNCATED_VARINT],
  ])("Synthesize with %s is INVALID_ARGUMENT on the request", async (_name, bytes) => {
    let error: grpc.ServiceError | undefined;
    await observedOnce("Synthesize", async () => {
      error = await grpcRaw(SYNTHESIZE, bytes, false);
    });
    expect(error!.code).toBe(grpc.status.INVALID_ARGUMENT);
    // grpc-js decodes grpc-message with decodeURI, which leaves ":" encoded (see protocols.test.ts).
    expect(decodeURIComponent(error!.details)).toMatch(/^request: cannot be decoded: /);
    expect(error!.metadata.get("grpc-status-details-bin")).toHaveLength(1);
  });

  it("SynthesizeStream with a string that is not UTF-8 is INVALID_ARGUMENT before any message", async () => {
    let error: grpc.ServiceError | undefined;
    await observedOnce("SynthesizeStream", async () => {
      error = await grpcRaw(STREAM, INVALID_UTF8, true);
    });
    expect(error!.code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe("gRPC-Web", () => {
  it("Synthesize with a truncated varint answers grpc-status 3 in its trailer frame", async () => {
    let trailer = "";
    await observedOnce("Synthesize", async () => {
      const envelope = Buffer.concat([Buffer.from([0, 0, 0, 0, TRUNCATED_VARINT.length]), TRUNCATED_VARINT]);
      const response = await fetch(`${running.baseUrl}${SYNTHESIZE}`, {
        method: "POST",
        headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
        body: new Blob([envelope]),
      });
      expect(response.status).toBe(200);
      const body = Buffer.from(await response.arrayBuffer());
      expect(body[0]).toBe(0x80); // the trailer frame, and nothing before it
      trailer = body.subarray(5).toString();
    });
    expect(trailer).toMatch(/grpc-status: ?3\r\n/);
  });
});

describe("Connect", () => {
  const post = (body: Uint8Array | string, contentType: string) =>
    fetch(`${running.baseUrl}${SYNTHESIZE}`, {
      method: "POST",
      headers: { "content-type": contentType },
      body: new Blob([body as BlobPart]),
    });

  it.each([
    ["a string that is not UTF-8", INVALID_UTF8],
    ["a truncated varint", TRUNCATED_VARINT],
  ])("a proto body with %s answers HTTP 400 invalid_argument with a google.rpc.BadRequest detail", async (_name, bytes) => {
    let json: { code?: string; message?: string; details?: { type: string; value: string }[] } = {};
    await observedOnce("Synthesize", async () => {
      const response = await post(bytes, "application/proto");
      expect(response.status).toBe(400);
      json = (await response.json()) as typeof json;
    });
    expect(json.code).toBe("invalid_argument");
    expect(json.message).toMatch(/^request: cannot be decoded: /);
    const detail = json.details?.find((d) => d.type === "google.rpc.BadRequest");
    const violations = fromBinary(BadRequestSchema, base64Decode(detail!.value)).fieldViolations;
    expect(violations.map((v) => v.field)).toEqual(["request"]);
  });

  it("a GET whose base64 message is not base64 answers HTTP 400 invalid_argument", async () => {
    let json: { code?: string } = {};
    // GetCacheStats has no side effects, so Connect serves it as a GET.
    await observedOnce("GetCacheStats", async () => {
      const response = await fetch(`${running.baseUrl}/aetheros.tts.v1.TtsService/GetCacheStats?encoding=proto&base64=1&message=!!!!`);
      expect(response.status).toBe(400);
      json = (await response.json()) as typeof json;
    });
    expect(json.code).toBe("invalid_argument");
  });

  it("an enum name the schema lacks is refused, naming the field and the allowed names", async () => {
    let json: { code?: string; message?: string } = {};
    await observedOnce("Synthesize", async () => {
      const response = await post(JSON.stringify({ text: "Hello.", config: { encoding: "AUDIO_ENCODING_MP33" } }), "application/json");
      expect(response.status).toBe(400);
      json = (await response.json()) as typeof json;
    });
    expect(json.code).toBe("invalid_argument");
    expect(json.message).toBe(
      'config.encoding: "AUDIO_ENCODING_MP33" is not in enum AudioEncoding; allowed AUDIO_ENCODING_WAV, AUDIO_ENCODING_PCM, AUDIO_ENCODING_MP3, AUDIO_ENCODING_OGG_OPUS, AUDIO_ENCODING_FLAC, AUDIO_ENCODING_MULAW, AUDIO_ENCODING_ALAW, AUDIO_ENCODING_WAV_MULAW, AUDIO_ENCODING_WAV_ALAW',
    );
  });

  it("a field the schema lacks is refused, naming it and the fields there are", async () => {
    let json: { code?: string; message?: string } = {};
    await observedOnce("Synthesize", async () => {
      const response = await post(JSON.stringify({ text: "Hello.", config: { speeed: 1.2 } }), "application/json");
      json = (await response.json()) as typeof json;
    });
    expect(json.message).toMatch(/^config\.speeed: unknown field of aetheros\.tts\.v1\.SynthesisConfig; allowed voice, /);
  });

  it("a well-formed call still succeeds after all of these", async () => {
    const response = await post(JSON.stringify({ text: "Still here.", config: { encoding: "AUDIO_ENCODING_MP3" } }), "application/json");
    expect(response.status).toBe(200);
    const json = (await response.json()) as { encoding?: string };
    expect(json.encoding).toBe("AUDIO_ENCODING_MP3");
  });
});

it("no refusal above showed the client a server path", () => {
  const messages = running.logLines.filter((l) => l.msg === "rpc" && typeof l.error === "string").map((l) => l.error as string);
  expect(messages.length).toBeGreaterThan(5);
  for (const message of messages) expect(message).not.toMatch(/(^|\s)\/(work|srv|usr|home|tmp|onnxruntime_src)\//);
});
