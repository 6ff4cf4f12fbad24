// The real entry point, run as a process: refusing a bad configuration, and
// shutting down gracefully on SIGTERM, with and without syntheses streaming.

import http from "node:http";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { AudioEncoding, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import * as reflection from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { listening, startEntryPoint as start, type EntryPoint } from "./entry-point.js";
import { RequestQueue } from "../../clients/node/src/index.js";
import { callError } from "./running-server.js";
import { proseOfLength } from "./support.js";

const PROCESS_TIMEOUT_MS = 30_000;

const started: EntryPoint[] = [];
afterEach(() => {
  for (const entry of started.splice(0)) entry.child.kill("SIGKILL");
});

function startEntryPoint(env: Record<string, string>): EntryPoint {
  const entry = start(env);
  started.push(entry);
  return entry;
}

/** A reflection stream held open: the call stays in flight until end(). */
function openReflectionStream(baseUrl: string) {
  const client = createClient(reflection.ServerReflection, createGrpcTransport({ baseUrl }));
  const requests = new RequestQueue<{ messageRequest: reflection.ServerReflectionRequest["messageRequest"] }>();
  const answers = client.serverReflectionInfo(requests)[Symbol.asyncIterator]();
  return {
    async listServices(): Promise<string[]> {
      requests.push({ messageRequest: { case: "listServices", value: "" } });
      const answer = await answers.next();
      if (answer.done === true) return [];
      const response = answer.value.messageResponse;
      return response.case === "listServicesResponse" ? response.value.service.map((service) => service.name) : [];
    },
    end: () => requests.end(),
    next: () => answers.next(),
  };
}

const SERVER_ENV = { SERVICE_HOST: "127.0.0.1", SERVICE_PORT: "0" };

describe("entry point", () => {
  it(
    "exits 1 on a bad value, naming the variable, the value and the allowed range",
    async () => {
      const entry = startEntryPoint({ ...SERVER_ENV, SERVICE_PORT: "abc" });
      const { code, stderr } = await entry.exited;
      expect(code).toBe(1);
      expect(stderr).toContain('SERVICE_PORT="abc" is invalid: expected an integer from 0 to 65535');
      expect(entry.logLines.some((line) => line.msg === "listening")).toBe(false);
    },
    PROCESS_TIMEOUT_MS,
  );

  it(
    "on SIGTERM refuses new calls, lets the call in flight finish, then exits 0",
    async () => {
      const entry = startEntryPoint({ ...SERVER_ENV, SHUTDOWN_GRACE_SECONDS: "20" });
      const baseUrl = await listening(entry);
      const inFlight = openReflectionStream(baseUrl);
      expect(await inFlight.listServices()).toContain("aetheros.tts.v1.TtsService");

      entry.child.kill("SIGTERM");
      await entry.logged("shutting down");
      const refused = await callError(createClient(Health, createGrpcTransport({ baseUrl })).check({ service: "" }));
      expect(refused.code).toBe(Code.Unavailable);

      // The call begun before SIGTERM is still served.
      expect(await inFlight.listServices()).toContain("aetheros.tts.v1.TtsService");
      inFlight.end();
      expect((await inFlight.next()).done).toBe(true);

      const { code, signal } = await entry.exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      const reflectionCall = entry.logLines.find((line) => line.method === "grpc.reflection.v1.ServerReflection/ServerReflectionInfo");
      expect(reflectionCall?.code).toBe("ok");
      expect(entry.logLines.some((line) => line.msg === "grace period over, cutting off calls")).toBe(false);
      expect(entry.logLines.at(-1)?.msg).toBe("stopped");
    },
    PROCESS_TIMEOUT_MS,
  );

  it("on SIGTERM lets the SynthesizeStreams in progress run to their summary, refuses new calls with UNAVAILABLE, then exits 0", async () => {
    const entry = startEntryPoint({ ...SERVER_ENV, SHUTDOWN_GRACE_SECONDS: "60", CACHE_ENABLED: "false", MAX_CONCURRENT_REQUESTS: "2" });
    const baseUrl = await listening(entry);
    await entry.logged("serving");
    const tts = createClient(TtsService, createGrpcTransport({ baseUrl }));

    // Two streams of several seconds of inference each, both under way.
    const streams = [0, 1].map(() => {
      const messages = tts.synthesizeStream({ text: proseOfLength(450), config: { encoding: AudioEncoding.PCM } })[Symbol.asyncIterator]();
      const cases: string[] = [];
      let summary: { chunkCount: number } | undefined;
      const firstChunk = (async () => {
        while (!cases.includes("chunk")) {
          const next = await messages.next();
          if (next.done === true) throw new Error("the stream ended before its first chunk");
          cases.push(next.value.event.case ?? "none");
        }
      })();
      const rest = async () => {
        for (let next = await messages.next(); next.done !== true; next = await messages.next()) {
          cases.push(next.value.event.case ?? "none");
          if (next.value.event.case === "summary") summary = next.value.event.value;
        }
        return { cases, summary };
      };
      return { firstChunk, rest };
    });
    await Promise.all(streams.map((stream) => stream.firstChunk));
    const keptAlive = createClient(
      TtsService,
      createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions: { agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) } }),
    );
    await keptAlive.listVoices({});

    entry.child.kill("SIGTERM");
    await entry.logged("shutting down");
    const refusedCheck = await callError(createClient(Health, createGrpcTransport({ baseUrl })).check({ service: "" }));
    expect(refusedCheck.code, String(refusedCheck)).toBe(Code.Unavailable);
    // A call on a connection opened before SIGTERM reaches the server, which refuses it.
    const refusedStream = await callError(
      (async () => {
        for await (const _ of keptAlive.synthesizeStream({ text: "Too late." }));
      })(),
    );
    expect(refusedStream).toMatchObject({ code: Code.Unavailable, rawMessage: "server is shutting down" });

    for (const { cases, summary } of await Promise.all(streams.map((stream) => stream.rest()))) {
      expect(cases[0]).toBe("start");
      expect(cases.at(-1)).toBe("summary");
      expect(summary?.chunkCount).toBe(cases.filter((name) => name === "chunk").length);
    }
    const { code, signal } = await entry.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const streamCalls = entry.logLines.filter((line) => line.method === "aetheros.tts.v1.TtsService/SynthesizeStream");
    expect(streamCalls.map((line) => line.code).sort()).toEqual(["ok", "ok", "unavailable"]);
    expect(entry.logLines.some((line) => line.msg === "grace period over, cutting off calls")).toBe(false);
    expect(entry.logLines.at(-1)?.msg).toBe("stopped");
  }, 120_000);

  it(
    "cuts off a call still running when SHUTDOWN_GRACE_SECONDS is over, then exits 0",
    async () => {
      const entry = startEntryPoint({ ...SERVER_ENV, SHUTDOWN_GRACE_SECONDS: "1" });
      const inFlight = openReflectionStream(await listening(entry));
      await inFlight.listServices();
      // Shutdown waits for the voice's warm-up inferences (a worker cannot be stopped
      // inside onnxruntime), which takes seconds on a busy machine: let it finish first.
      await entry.logged("serving");

      const signalled = performance.now();
      entry.child.kill("SIGTERM");
      const cutOff = callError(inFlight.next());
      const { code, signal } = await entry.exited;
      const shutdownMs = performance.now() - signalled;

      expect({ code, signal }).toEqual({ code: 0, signal: null });
      // The grace period, then at most the second cut-off calls get to answer.
      expect(shutdownMs).toBeGreaterThanOrEqual(1000);
      expect(shutdownMs).toBeLessThan(3000);
      expect(entry.logLines.some((line) => line.msg === "grace period over, cutting off calls")).toBe(true);
      expect(await cutOff).toMatchObject({ code: Code.Unavailable, rawMessage: "server shut down" });
    },
    PROCESS_TIMEOUT_MS,
  );
});
