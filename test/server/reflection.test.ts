// gRPC server reflection, v1 and v1alpha, with a reflection client over gRPC
// and, when it is installed, with grpcurl.

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { RequestQueue } from "../../clients/node/src/index.js";
import { startServer, type RunningServer } from "./running-server.js";

const SERVICES = [
  "aetheros.tts.v1.TtsService",
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

let running: RunningServer;
beforeAll(async () => {
  running = await startServer({}, { ready: false });
});
afterAll(() => running.app.close());

/** Sends each request on one reflection stream and returns the answers. */
async function ask(queries: v1.ServerReflectionRequest["messageRequest"][]): Promise<v1.ServerReflectionResponse[]> {
  const client = createClient(v1.ServerReflection, createGrpcTransport({ baseUrl: running.baseUrl }));
  const requests = new RequestQueue<{ host: string; messageRequest: v1.ServerReflectionRequest["messageRequest"] }>();
  for (const messageRequest of queries) requests.push({ host: "localhost", messageRequest });
  requests.end();
  const answers: v1.ServerReflectionResponse[] = [];
  for await (const answer of client.serverReflectionInfo(requests)) answers.push(answer);
  return answers;
}

function describedFiles(answer: v1.ServerReflectionResponse | undefined) {
  expect(answer?.messageResponse.case).toBe("fileDescriptorResponse");
  const files = answer?.messageResponse.case === "fileDescriptorResponse" ? answer.messageResponse.value : undefined;
  return (files?.fileDescriptorProto ?? []).map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

describe("grpc.reflection.v1", () => {
  it("lists every service", async () => {
    const [answer] = await ask([{ case: "listServices", value: "" }]);
    expect(answer?.messageResponse.case).toBe("listServicesResponse");
    const listed = answer?.messageResponse.case === "listServicesResponse" ? answer.messageResponse.value.service : [];
    expect(listed.map((service) => service.name)).toEqual(SERVICES);
  });

  it("returns the file declaring TtsService, with all seven methods", async () => {
    const [answer] = await ask([{ case: "fileContainingSymbol", value: "aetheros.tts.v1.TtsService" }]);
    const [file] = describedFiles(answer);
    expect(file?.name).toBe("aetheros/tts/v1/tts.proto");
    expect(file?.service[0]?.method.map((method) => method.name)).toEqual([
      "Synthesize",
      "SynthesizeStream",
      "StreamingSynthesize",
      "ListVoices",
      "Health",
      "GetCacheStats",
      "ClearCache",
    ]);
  });

  it("finds files by method, nested type and file name on one stream", async () => {
    const answers = await ask([
      { case: "fileContainingSymbol", value: "aetheros.tts.v1.TtsService.SynthesizeStream" },
      { case: "fileContainingSymbol", value: "grpc.health.v1.HealthCheckResponse.ServingStatus" },
      { case: "fileByFilename", value: "grpc/health/v1/health.proto" },
    ]);
    expect(answers.map((answer) => describedFiles(answer)[0]?.name)).toEqual([
      "aetheros/tts/v1/tts.proto",
      "grpc/health/v1/health.proto",
      "grpc/health/v1/health.proto",
    ]);
  });

  it("answers NOT_FOUND for an unknown symbol and keeps the stream going", async () => {
    const [unknown, known] = await ask([
      { case: "fileContainingSymbol", value: "aetheros.tts.v1.Nothing" },
      { case: "listServices", value: "" },
    ]);
    expect(unknown?.messageResponse).toMatchObject({ case: "errorResponse", value: { errorCode: 5 } });
    expect(known?.messageResponse.case).toBe("listServicesResponse");
  });
});

describe("grpc.reflection.v1alpha", () => {
  it("lists every service", async () => {
    const client = createClient(v1alpha.ServerReflection, createGrpcTransport({ baseUrl: running.baseUrl }));
    const requests = new RequestQueue<{ messageRequest: v1alpha.ServerReflectionRequest["messageRequest"] }>();
    requests.push({ messageRequest: { case: "listServices", value: "" } });
    requests.end();
    const names: string[] = [];
    for await (const answer of client.serverReflectionInfo(requests)) {
      if (answer.messageResponse.case === "listServicesResponse") {
        names.push(...answer.messageResponse.value.service.map((service) => service.name));
      }
    }
    expect(names).toEqual(SERVICES);
  });
});

const run = promisify(execFile);

// Installed into .tools/bin by the pretest script (tools/prerequisites.mjs).
const grpcurl = fileURLToPath(new URL("../../.tools/bin/grpcurl", import.meta.url));

describe("grpcurl", () => {
  const grpcurlAt = (...args: string[]) => run(grpcurl, ["-plaintext", `127.0.0.1:${running.server.port}`, ...args]);

  it("lists every service", async () => {
    const { stdout } = await grpcurlAt("list");
    expect(stdout.trim().split("\n")).toEqual(SERVICES);
  });

  it("describes TtsService", async () => {
    const { stdout } = await grpcurlAt("describe", "aetheros.tts.v1.TtsService");
    expect(stdout).toContain("aetheros.tts.v1.TtsService is a service:");
    expect(stdout).toContain(
      "rpc SynthesizeStream ( .aetheros.tts.v1.SynthesizeStreamRequest ) returns ( stream .aetheros.tts.v1.SynthesizeStreamResponse );",
    );
  });

  it("describes SynthesisConfig with the proto's comments on the message and its fields", async () => {
    const { stdout } = await grpcurlAt("describe", "aetheros.tts.v1.SynthesisConfig");
    expect(stdout).toContain("aetheros.tts.v1.SynthesisConfig is a message:");
    expect(stdout).toContain("// SynthesisConfig says how to speak the text: which voice, how fast, how high");
    expect(stdout).toMatch(
      /\/\/ Speaking rate, 0\.5 to 2\.0; 1\.0 when unset\. The speech lasts 1\/speed as\s+\/\/ long \(2\.0 halves it\): the model's own durations, stretched by that ratio\.\s+optional float speed = 6;/,
    );
  });

  it("describes a method with its comment", async () => {
    const { stdout } = await grpcurlAt("describe", "aetheros.tts.v1.TtsService.Synthesize");
    expect(stdout).toContain("// Synthesize returns the whole utterance as one audio file.");
  });

  it("calls grpc.health.v1.Health/Check", async () => {
    running.health.markServing();
    const { stdout } = await grpcurlAt("grpc.health.v1.Health/Check");
    expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
  });
});
