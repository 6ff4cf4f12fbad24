/**
 * The window and context sizes (DECODE_WINDOWS) are proven here: running a sentence's
 * frames through the flow and the decoder window by window must give the samples of one
 * flow and decoder run over all of them, within 1 LSB of 16-bit PCM, on the longest golden
 * sentence (1062 phonemes, about 4300 frames) and a short one; and neither context is
 * larger than it needs to be for nothing: with 8 frames of decoder context, or 8 of flow
 * context, the windows' edges are audibly wrong. The encoder's per-id durations (for word
 * timings) add up to the sentence's samples.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { floatToPcm16 } from "../../src/audio/pcm.js";
import {
  DECODE_WINDOWS,
  EARLY_DECODE_WINDOWS,
  type DecodeWindows,
  flowInputs,
  frameWindows,
  type VoiceGraph,
  VoiceSession,
} from "../../src/engine/inference.js";
import type { PiperVoiceConfig } from "../../src/engine/voice-config.js";
import { partFiles, prepareVoice } from "../../src/engine/voice-graph.js";
import pino from "pino";
import { VoiceCatalog } from "../../src/voices/index.js";
import { DEFAULT_VOICE, MODELS_DIR } from "../support/voice.js";

const golden = JSON.parse(readFileSync("test/golden/audio.json", "utf8")) as {
  items: { file: string; sentences: { ids: number[]; num_samples: number }[] }[];
};
const longest = golden.items.find((item) => item.file === "audio/10.wav")!.sentences[0]!;
const long = golden.items.find((item) => item.file === "audio/9.wav")!.sentences[0]!;
const short = golden.items.find((item) => item.file === "audio/8.wav")!.sentences[0]!;
const ONE_RUN: DecodeWindows = { first: 1 << 30, later: 1 << 30, context: 0, flowContext: 0 };

let config: PiperVoiceConfig;
let graph: VoiceGraph;
const sessions: VoiceSession[] = [];
beforeAll(async () => {
  const voice = await new VoiceCatalog(MODELS_DIR, pino({ level: "silent" })).voice(DEFAULT_VOICE);
  config = voice.config;
  const prepared = await prepareVoice(voice.modelFile, voice.modelHash, config, { intraOpThreads: 1 });
  expect(prepared.wholeBecause).toBeUndefined();
  graph = prepared.graph;
  const { encoderFile, flowFile, decoderFile } = partFiles(voice.modelFile, voice.modelHash);
  expect(graph).toEqual({ kind: "split", encoderFile, flowFile, decoderFile });
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.release()));
});

const sessionsByWindows = new Map<DecodeWindows, Promise<VoiceSession>>();
const oneRunDecodes = new Map<number[], ReturnType<typeof decode>>();

/** One flow and decoder run over all frames, once per sentence. */
function decodeInOneRun(ids: number[]): ReturnType<typeof decode> {
  let decoded = oneRunDecodes.get(ids);
  if (!decoded) oneRunDecodes.set(ids, (decoded = decode(ids, ONE_RUN)));
  return decoded;
}

async function decode(ids: number[], windows: DecodeWindows) {
  let loading = sessionsByWindows.get(windows);
  if (!loading) {
    sessionsByWindows.set(windows, (loading = VoiceSession.load(graph, config, { intraOpThreads: 1, windows })));
    sessions.push(await loading);
  }
  const session = await loading;
  const parts: Float32Array[] = [];
  let idDurations: number[] | undefined;
  for await (const window of session.speak(ids, { noiseScale: 0, lengthScale: config.lengthScale, noiseW: 0, durationScale: 1 }, 0)) {
    parts.push(window.samples);
    idDurations ??= window.idDurations;
  }
  const samples = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    samples.set(part, offset);
    offset += part.length;
  }
  return { pcm: floatToPcm16(samples), windows: parts.length, idDurations };
}

function largestDifference(a: Int16Array, b: Int16Array): number {
  expect(a.length).toBe(b.length);
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i]! - b[i]!));
  return largest;
}

describe("windowed decoding", () => {
  for (const [name, sentence, windows] of [
    ["1062 phonemes", longest, DECODE_WINDOWS],
    ["426 phonemes", long, DECODE_WINDOWS],
    ["a short sentence", short, DECODE_WINDOWS],
    ["1062 phonemes, as a stream", longest, EARLY_DECODE_WINDOWS],
  ] as const) {
    it(`${name}: the shipped windows give one flow and decoder run's samples within 1 LSB`, async () => {
      const whole = await decodeInOneRun(sentence.ids);
      const windowed = await decode(sentence.ids, windows);
      expect(whole.windows).toBe(1);
      const frames = sentence.num_samples / 256;
      expect(windowed.windows).toBe(frameWindows(frames, windows).length);
      expect(windowed.pcm.length).toBe(sentence.num_samples);
      expect(largestDifference(windowed.pcm, whole.pcm)).toBeLessThanOrEqual(1);

      // The durations: one per id, whole frames, adding up to the sentence.
      expect(windowed.idDurations).toHaveLength(sentence.ids.length);
      expect(windowed.idDurations!.every((d) => Number.isInteger(d / 256) && d >= 0)).toBe(true);
      expect(windowed.idDurations!.reduce((n, d) => n + d, 0)).toBe(sentence.num_samples);
    });
  }

  it("small first windows decode exactly too (every window edge is an inner edge)", async () => {
    const whole = await decodeInOneRun(long.ids);
    const small = await decode(long.ids, { ...DECODE_WINDOWS, first: 16, later: 64 });
    expect(small.windows).toBeGreaterThan(25);
    expect(largestDifference(small.pcm, whole.pcm)).toBeLessThanOrEqual(1);
  });

  // What the pool does when idle workers help decode one sentence for a caller that waits
  // for all of it (a stream's windows are decoded one at a time).
  for (const [workers, windowsUsed] of [
    [2, DECODE_WINDOWS],
    [3, DECODE_WINDOWS],
    [2, { ...DECODE_WINDOWS, first: 16 }],
  ] as const) {
    const label = windowsUsed.first < windowsUsed.later ? `after a first window of ${windowsUsed.first} frames, ` : "";
    it(`${label}spread over ${workers} workers: equal shares of the frames, decoded apart, give one flow and decoder run's samples within 1 LSB`, async () => {
      const whole = await decodeInOneRun(long.ids);
      await decode(long.ids, DECODE_WINDOWS);
      const session = await sessionsByWindows.get(DECODE_WINDOWS)!;
      const encoded = await session.encode(long.ids, { noiseScale: 0, lengthScale: config.lengthScale, noiseW: 0, durationScale: 1 }, 0);
      if (encoded.kind !== "frames") throw new Error("the voice runs whole");
      const { frames } = encoded;
      const windows = frameWindows(frames.frames, windowsUsed, workers);
      const head = windowsUsed.first < windowsUsed.later ? 1 : 0;
      const to = windowsUsed.first + windowsUsed.context;
      if (head)
        expect(windows[0]).toEqual({ start: 0, end: windowsUsed.first, from: 0, to, flowFrom: 0, flowTo: to + windowsUsed.flowContext });
      expect((windows.length - head) % workers).toBe(0);
      const sizes = windows.slice(head).map((w) => w.end - w.start);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(windows.length);
      expect(windows.flatMap((w) => [w.start, w.end])).toEqual([0, ...windows.slice(1).flatMap((w) => [w.start, w.start]), frames.frames]);
      // In reverse order, as another worker may finish first.
      const parts = await Promise.all([...windows].reverse().map((w) => session.decode(flowInputs(frames, w), w, 0)));
      const samples = new Float32Array(whole.pcm.length);
      let offset = 0;
      for (const part of parts.reverse() as Float32Array[]) {
        samples.set(part, offset);
        offset += part.length;
      }
      expect(offset).toBe(whole.pcm.length);
      expect(largestDifference(floatToPcm16(samples), whole.pcm)).toBeLessThanOrEqual(1);
    });
  }

  it("windows are `later` frames after the first, the last taking in a remainder under half a window", () => {
    const sizes = (frames: number, windows: DecodeWindows) => frameWindows(frames, windows).map((w) => w.end - w.start);
    expect(sizes(200, EARLY_DECODE_WINDOWS)).toEqual([16, 184]);
    expect(sizes(215, EARLY_DECODE_WINDOWS)).toEqual([16, 128, 71]);
    expect(sizes(1049, EARLY_DECODE_WINDOWS)).toEqual([16, 128, 128, 128, 128, 128, 128, 128, 137]);
    expect(sizes(300, DECODE_WINDOWS)).toEqual([300]);
    expect(sizes(400, DECODE_WINDOWS)).toEqual([256, 144]);
    expect(sizes(12, EARLY_DECODE_WINDOWS)).toEqual([12]);
  });

  it("a window told to stop after its flow run gives no samples, and the session decodes on", async () => {
    const session = await VoiceSession.load(graph, config, { intraOpThreads: 1 });
    sessions.push(session);
    const encoded = await session.encode(short.ids, { noiseScale: 0, lengthScale: config.lengthScale, noiseW: 0, durationScale: 1 }, 0);
    if (encoded.kind !== "frames") throw new Error("the voice runs whole");
    const [window] = frameWindows(encoded.frames.frames, DECODE_WINDOWS);
    let asked = 0;
    const stopped = await session.decode(flowInputs(encoded.frames, window!), window!, 0, async () => ++asked > 0);
    expect([stopped, asked]).toEqual([undefined, 1]);
    const samples = await session.decode(flowInputs(encoded.frames, window!), window!, 0);
    expect(floatToPcm16(samples!)).toEqual((await decodeInOneRun(short.ids)).pcm);
  });

  it("a sentence too short to share stays in the shipped windows", () => {
    expect(frameWindows(100, DECODE_WINDOWS, 2)).toEqual(frameWindows(100, DECODE_WINDOWS, 1));
    expect(frameWindows(100, DECODE_WINDOWS, 1)).toEqual([{ start: 0, end: 100, from: 0, to: 100, flowFrom: 0, flowTo: 100 }]);
  });

  it("with 8 frames of decoder context instead the window edges are off by tens of LSB", async () => {
    const whole = await decodeInOneRun(long.ids);
    const narrow = await decode(long.ids, { ...DECODE_WINDOWS, context: 8 });
    expect(largestDifference(narrow.pcm, whole.pcm)).toBeGreaterThan(10);
  });

  it("with 8 frames of flow context instead the window edges are off by tens of LSB", async () => {
    const whole = await decodeInOneRun(long.ids);
    const narrow = await decode(long.ids, { ...DECODE_WINDOWS, first: 16, later: 64, flowContext: 8 });
    expect(largestDifference(narrow.pcm, whole.pcm)).toBeGreaterThan(10);
  });
});
