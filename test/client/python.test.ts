// The Python client as a sibling service takes it: a fresh venv in a temporary directory
// pip-installs clients/python, and test/client/consumers/consumer.py calls a real server
// from sync and asyncio code (grpcio): unary to a file and to bytes, the stream, health
// (TtsService's and the standard grpc.health.v1), an INVALID_ARGUMENT naming its field, a
// deadline, the API key; with the server's one slot taken, each call is refused twice
// (one retry after the server's retry-after-ms) and then raises RESOURCE_EXHAUSTED. Live
// sessions (StreamingSynthesize), sync and asyncio: tokens in as a model writes them, words
// and audio out, a barge-in, an utterance's error and a session refused whole.

import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../server/entry-point.js";
import { startServer, type RunningServer } from "../server/running-server.js";
import { untilIdle, whileSlotHeld } from "../server/support.js";
import { decode, probe, VOICE_RATE } from "../synthesis/support.js";

const run = promisify(execFile);
const API_KEY = "python-consumer-key-2f7c9a41";
const METHODS = ["aetheros.tts.v1.TtsService/Synthesize", "aetheros.tts.v1.TtsService/SynthesizeStream"];

let running: RunningServer;
let scratch: string;
let python: string;
beforeAll(async () => {
  running = await startServer({ API_KEYS: API_KEY, MAX_CONCURRENT_REQUESTS: "1", MAX_QUEUE_SIZE: "0", MAX_TEXT_LENGTH: "20000" });
  scratch = await mkdtemp(join(tmpdir(), "tts-python-consumer-"));
  await run("python3", ["-m", "venv", join(scratch, "venv")]);
  python = join(scratch, "venv", "bin", "python");
  // pip's downloads are kept in the repository's ignored .cache/, as CI's other installs are.
  await run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", join(REPO_ROOT, "clients", "python")], {
    env: { ...process.env, PIP_CACHE_DIR: join(REPO_ROOT, ".cache", "pip") },
  });
  await copyFile(join(REPO_ROOT, "test", "client", "consumers", "consumer.py"), join(scratch, "consumer.py"));
}, 600_000);
afterAll(async () => {
  await running.app.close();
  await rm(scratch, { recursive: true, force: true });
});

interface LiveEvent {
  type: "start" | "audio" | "words" | "end";
  context?: string;
  sampleRate?: number;
  bytes?: number;
  words?: string[];
  cancelled?: boolean;
  seconds?: number;
  error?: string | null;
  message?: string | null;
}

interface Failure {
  code: string;
  field: string | null;
  retryAfter: number | null;
  message: string;
}

async function consumer(mode: "calls" | "refused" | "live", server = running): Promise<Record<string, Record<string, unknown>>> {
  // Asynchronously: the server runs in this process.
  const { stdout } = await run(python, ["consumer.py", mode, server.baseUrl, API_KEY], { cwd: scratch, timeout: 300_000 });
  return JSON.parse(stdout);
}

async function expectWav(file: string): Promise<number> {
  const audio = await readFile(join(scratch, file));
  expect(await probe(audio)).toEqual({ codec: "pcm_s16le", sampleRate: VOICE_RATE, channels: 1 });
  return (await decode(audio)).length / VOICE_RATE;
}

describe("aetheros-tts-client (Python) from a fresh venv", () => {
  it("synthesizes, streams, reports health and names the field of an INVALID_ARGUMENT, sync and asyncio", async () => {
    const { sync, async: asyncio } = await consumer("calls");
    await untilIdle(running);

    expect(sync!.unary).toMatchObject({ sampleRate: VOICE_RATE });
    const unarySeconds = await expectWav("sync.wav");
    expect(unarySeconds).toBeGreaterThan(1.5);
    expect(Math.abs(unarySeconds - (sync!.unary as { duration: number }).duration)).toBeLessThanOrEqual(0.02);
    expect(sync!.plainText).toBeGreaterThan(44);

    const events = sync!.events as string[];
    expect(events[0]).toBe("start");
    expect(events.at(-1)).toBe("summary");
    expect(events.slice(1, -1).length).toBeGreaterThan(0);
    expect(events.slice(1, -1).every((event) => event === "chunk")).toBe(true);
    const streamSeconds = await expectWav("sync-stream.wav");
    expect(Math.abs(streamSeconds - (sync!.summary as { duration: number }).duration)).toBeLessThanOrEqual(0.02);

    expect(sync).toMatchObject({ serving: true, standardHealth: "SERVING" });
    expect(sync!.invalid).toMatchObject({ code: "INVALID_ARGUMENT", field: "config.speed" } satisfies Partial<Failure>);
    expect(sync!.deadline).toMatchObject({ code: "DEADLINE_EXCEEDED" });
    expect(sync!.keyless).toMatchObject({ code: "UNAUTHENTICATED" });

    expect(asyncio).toMatchObject({ serving: true, standardHealth: "SERVING" });
    expect(Math.abs((await expectWav("async.wav")) - (asyncio!.unary as { duration: number }).duration)).toBeLessThanOrEqual(0.02);
    expect(asyncio!.chunks).toBeGreaterThan(0);
    expect(await expectWav("async-stream.wav")).toBeGreaterThan(1.5);
    expect(asyncio!.invalid).toMatchObject({ code: "INVALID_ARGUMENT", field: "text" });
  });

  it("speaks a live session's tokens with their words, and cancels one utterance of several, sync and asyncio", async () => {
    // The shipped queue: a session's next sentence waits for the slot its last one holds.
    const live = await startServer({ API_KEYS: API_KEY });
    const { sync, async: asyncio } = (await consumer("live", live).finally(() => live.app.close())) as unknown as {
      sync: LiveEvent[];
      async: { events: LiveEvent[]; refused: Failure };
    };

    // Sync: "Hel" "lo" " there" "." ... sent from another thread, one utterance of two sentences.
    expect(sync[0]).toEqual({ type: "start", sampleRate: VOICE_RATE });
    expect(sync.filter((e) => e.type === "words").map((e) => e.words)).toEqual([
      ["Hello", "there"],
      ["How", "are", "you"],
    ]);
    expect(sync.findIndex((e) => e.type === "words")).toBeLessThan(sync.findIndex((e) => e.type === "audio"));
    const audio = sync.filter((e) => e.type === "audio");
    const end = sync.at(-1)!;
    expect(end).toMatchObject({ type: "end", context: "", cancelled: false, error: null });
    expect(audio.reduce((n, e) => n + e.bytes!, 0)).toBe(end.bytes);
    expect(end.seconds).toBeCloseTo(end.bytes! / 2 / VOICE_RATE, 6);
    expect(end.seconds).toBeGreaterThan(1);

    // Asyncio: "a" cancelled at its second piece (after close()), "b" spoken whole, "c" refused as SSML.
    const events = asyncio!.events;
    const ends = events.filter((e) => e.type === "end");
    const endOf = (context: string) => ends.find((e) => e.context === context)!;
    expect(endOf("a")).toMatchObject({ cancelled: true, error: null });
    expect(events.slice(events.indexOf(endOf("a"))).some((e) => e.type === "audio" && e.context === "a")).toBe(false);
    expect(endOf("b")).toMatchObject({ cancelled: false, error: null });
    expect(endOf("b").bytes).toBe(events.filter((e) => e.type === "audio" && e.context === "b").reduce((n, e) => n + e.bytes!, 0));
    expect(endOf("b").bytes).toBeGreaterThan(VOICE_RATE);
    expect(endOf("c")).toMatchObject({ cancelled: false, error: "INVALID_ARGUMENT", bytes: 0 });
    expect(endOf("c").message).toMatch(/^input\.ssml: line 1, column \d+: <speak> is not closed/);
    expect(asyncio!.refused).toMatchObject({ code: "INVALID_ARGUMENT", field: "config.speed" });
  });

  it("retries RESOURCE_EXHAUSTED once after the server's retry-after-ms, then raises it with the hint", async () => {
    await whileSlotHeld(running, { authorization: `Bearer ${API_KEY}` }, async () => {
      const since = running.logLines.length;

      const refused = await consumer("refused");
      for (const call of ["sync", "syncStream", "async"]) {
        expect(refused[call], call).toMatchObject({ code: "RESOURCE_EXHAUSTED" });
        expect((refused[call] as unknown as Failure).retryAfter).toBeGreaterThan(0);
      }
      // Three calls, each refused twice: one retry apiece.
      const logged = running.logLines.slice(since).filter((line) => line.msg === "rpc" && METHODS.includes(line.method as string));
      expect(logged.map((line) => line.code)).toEqual(Array(6).fill("resource_exhausted"));
    });
  });
});
