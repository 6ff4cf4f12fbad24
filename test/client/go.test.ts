// The Go client module as a sibling service takes it: a fresh module in a temporary
// directory requires github.com/aetheros/tts/clients/go through a replace directive (it is
// not published), and test/client/consumers/consumer.go, built with `go build`, calls a real
// server with grpc-go through ttsclient: unary to a file and to bytes, the stream, health
// (TtsService's and the standard grpc.health.v1), an INVALID_ARGUMENT naming its field, a
// deadline, the API key, and the connect-go code over the Connect protocol; with the
// server's one slot taken, each call is refused twice (one retry after the server's
// retry-after-ms) and then fails with RESOURCE_EXHAUSTED and the hint. A LiveSession
// (StreamingSynthesize): tokens in from a goroutine, words and audio out, a barge-in, an
// utterance's error and a session refused whole.

import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../server/entry-point.js";
import { startServer, type RunningServer } from "../server/running-server.js";
import { untilIdle, whileSlotHeld } from "../server/support.js";
import { decode, probe, VOICE_RATE } from "../synthesis/support.js";

const run = promisify(execFile);
const API_KEY = "go-consumer-key-8d3e61b0";
const METHODS = ["aetheros.tts.v1.TtsService/Synthesize", "aetheros.tts.v1.TtsService/SynthesizeStream"];

let running: RunningServer;
let scratch: string;
beforeAll(async () => {
  running = await startServer({ API_KEYS: API_KEY, MAX_CONCURRENT_REQUESTS: "1", MAX_QUEUE_SIZE: "0", MAX_TEXT_LENGTH: "20000" });
  scratch = await mkdtemp(join(tmpdir(), "tts-go-consumer-"));
  await writeFile(
    join(scratch, "go.mod"),
    [
      "module example.com/consumer",
      "",
      "go 1.23.0",
      "",
      "require github.com/aetheros/tts/clients/go v0.0.0",
      "",
      `replace github.com/aetheros/tts/clients/go => ${join(REPO_ROOT, "clients", "go")}`,
      "",
    ].join("\n"),
  );
  await copyFile(join(REPO_ROOT, "test", "client", "consumers", "consumer.go"), join(scratch, "main.go"));
  await run("go", ["mod", "tidy"], { cwd: scratch });
  await run("go", ["build", "-o", "consumer", "."], { cwd: scratch });
}, 600_000);
afterAll(async () => {
  await running.app.close();
  await rm(scratch, { recursive: true, force: true });
});

interface LiveEvent {
  type: "start" | "audio" | "words" | "end";
  context: string;
  bytes?: number;
  words?: string[];
  cancelled?: boolean;
  seconds?: number;
  error?: string;
  message?: string;
}

interface Failure {
  code: string;
  field: string;
  retryAfterMs: number;
  message: string;
}

async function consumer(mode: "calls" | "refused" | "live", server = running): Promise<Record<string, unknown>> {
  // Asynchronously: the server runs in this process.
  const { stdout } = await run(join(scratch, "consumer"), [mode, server.baseUrl, API_KEY], { cwd: scratch, timeout: 300_000 });
  return JSON.parse(stdout);
}

async function expectWav(file: string): Promise<number> {
  const audio = await readFile(join(scratch, file));
  expect(await probe(audio)).toEqual({ codec: "pcm_s16le", sampleRate: VOICE_RATE, channels: 1 });
  return (await decode(audio)).length / VOICE_RATE;
}

describe("github.com/aetheros/tts/clients/go from a fresh module", () => {
  it("synthesizes, streams, reports health and names the field of an INVALID_ARGUMENT, over grpc-go and connect-go", async () => {
    const result = await consumer("calls");
    await untilIdle(running);

    expect(result.unary).toMatchObject({ sampleRate: VOICE_RATE });
    const unarySeconds = await expectWav("unary.wav");
    expect(unarySeconds).toBeGreaterThan(1.5);
    expect(Math.abs(unarySeconds - (result.unary as { duration: number }).duration)).toBeLessThanOrEqual(0.02);
    expect(result.plainText).toBeGreaterThan(44);

    expect(result.chunks).toBeGreaterThan(0);
    expect(await expectWav("stream.wav")).toBeGreaterThan(1.5);
    const streamSeconds = await expectWav("stream-to-file.wav");
    expect(Math.abs(streamSeconds - (result.summary as { duration: number }).duration)).toBeLessThanOrEqual(0.02);

    expect(result).toMatchObject({ serving: true, standardHealth: "SERVING", connectHealth: "HEALTH_STATUS_SERVING" });
    expect(result.invalid).toMatchObject({ code: "InvalidArgument", field: "config.speed" } satisfies Partial<Failure>);
    expect(result.deadline).toMatchObject({ code: "DeadlineExceeded" });
    expect(result.keyless).toMatchObject({ code: "Unauthenticated" });
    expect(result.connectKeyless).toBe("unauthenticated");
  });

  it("speaks a LiveSession's tokens with their words and cancels one utterance of several, past the client's Timeout", async () => {
    // The shipped queue: a session's next sentence waits for the slot its last one holds.
    const live = await startServer({ API_KEYS: API_KEY });
    const result = (await consumer("live", live).finally(() => live.app.close())) as {
      tokens: LiveEvent[];
      bargeIn: LiveEvent[];
      refused: Failure;
    };

    const { tokens, bargeIn } = result;
    expect(tokens[0]).toMatchObject({ type: "start" });
    expect(tokens.filter((e) => e.type === "words").map((e) => e.words)).toEqual([
      ["Hello", "there"],
      ["How", "are", "you"],
    ]);
    expect(tokens.findIndex((e) => e.type === "words")).toBeLessThan(tokens.findIndex((e) => e.type === "audio"));
    const end = tokens.at(-1)!;
    expect(end).toMatchObject({ type: "end", context: "" });
    expect(end.cancelled ?? false).toBe(false);
    expect(tokens.filter((e) => e.type === "audio").reduce((n, e) => n + e.bytes!, 0)).toBe(end.bytes);
    expect(end.seconds).toBeCloseTo(end.bytes! / 2 / VOICE_RATE, 6);

    const endOf = (context: string) => bargeIn.find((e) => e.type === "end" && e.context === context)!;
    expect(endOf("a")).toMatchObject({ cancelled: true });
    expect(bargeIn.slice(bargeIn.indexOf(endOf("a"))).some((e) => e.type === "audio" && e.context === "a")).toBe(false);
    expect(endOf("b").cancelled ?? false).toBe(false);
    expect(endOf("b").bytes).toBe(bargeIn.filter((e) => e.type === "audio" && e.context === "b").reduce((n, e) => n + e.bytes!, 0));
    expect(endOf("b").bytes).toBeGreaterThan(VOICE_RATE);
    expect(endOf("c")).toMatchObject({ error: "INVALID_ARGUMENT" });
    expect(endOf("c").message).toMatch(/^input\.ssml: line 1, column \d+: <speak> is not closed/);
    expect(result.refused).toMatchObject({ code: "InvalidArgument", field: "config.speed" });
  });

  it("retries RESOURCE_EXHAUSTED once after the server's retry-after-ms, then raises it with the hint", async () => {
    await whileSlotHeld(running, { authorization: `Bearer ${API_KEY}` }, async () => {
      const since = running.logLines.length;

      const refused = await consumer("refused");
      for (const call of ["unary", "stream"]) {
        expect(refused[call], call).toMatchObject({ code: "ResourceExhausted" });
        expect((refused[call] as Failure).retryAfterMs).toBeGreaterThan(0);
      }
      // Two calls, each refused twice: one retry apiece.
      const logged = running.logLines.slice(since).filter((line) => line.msg === "rpc" && METHODS.includes(line.method as string));
      expect(logged.map((line) => line.code)).toEqual(Array(4).fill("resource_exhausted"));
    });
  });
});
