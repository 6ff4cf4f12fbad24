/**
 * Audio parity with Piper: the golden sentences (test/golden/audio.json, piper-tts 1.8.0 at
 * noise_scale = noise_w = 0) must come out of this service as Piper's samples: the same
 * length and differences of at most ±1 LSB (onnxruntime's thread-count dependent float
 * summation, as the golden data's own determinism check records), at both of Piper's levels
 * (normalize_audio True: each sentence peak-normalized; False: the model's own level, the
 * service's default). Checked three ways: Piper's own ids through the engine (encoder once
 * per sentence, decoder in windows), and the golden texts through the running server, unary
 * and streamed (chunks concatenated), whose audio must also be the same bytes.
 */
import { readFileSync } from "node:fs";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, Normalization } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { floatToPcm16 } from "../../src/audio/pcm.js";
import { Engine } from "../../src/engine/index.js";
import { DECODE_WINDOWS, frameWindows } from "../../src/engine/inference.js";
import { VoiceCatalog } from "../../src/voices/index.js";
import { correlation } from "../audio/support.js";
import { startServer, type RunningServer } from "../server/running-server.js";
import { collectStream, NO_NOISE, ttsClient, VOICE } from "../synthesis/support.js";
import { DEFAULT_VOICE, MODELS_DIR } from "../support/voice.js";

interface GoldenItem {
  file: string;
  model_level_file: string;
  text: string;
  num_samples: number;
  sentences: { ids: number[]; sample_offset: number; num_samples: number }[];
}

const golden = JSON.parse(readFileSync("test/golden/audio.json", "utf8")) as {
  synthesis_config: { length_scale: number };
  items: GoldenItem[];
};
const logger = pino({ level: "silent" });
const engine = new Engine({ threads: 1, intraOpThreads: 1, maxLoadedVoices: 1, logger });
afterAll(() => engine.close());
const model = engine.model(await new VoiceCatalog(MODELS_DIR, logger).voice(DEFAULT_VOICE));
const { config } = model;

/** The PCM samples of a golden WAV (16-bit mono, canonical 44-byte header checked). */
function goldenSamples(file: string): Int16Array {
  const bytes = readFileSync(`test/golden/${file}`);
  expect(bytes.toString("latin1", 36, 40)).toBe("data");
  return new Int16Array(bytes.buffer.slice(bytes.byteOffset + 44, bytes.byteOffset + bytes.length));
}

function concatSamples<T extends Int16Array | Float32Array>(parts: T[], make: (length: number) => T): T {
  const joined = make(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

function expectPiperSamples(ours: Int16Array, expected: Int16Array): void {
  expect(ours.length).toBe(expected.length);
  expect(correlation(ours, expected)).toBeGreaterThanOrEqual(0.999);
  let largest = 0;
  for (let i = 0; i < ours.length; i++) largest = Math.max(largest, Math.abs(ours[i]! - expected[i]!));
  expect(largest).toBeLessThanOrEqual(1);
}

/** Little-endian 16-bit PCM bytes as samples. */
function pcmSamples(bytes: Uint8Array): Int16Array {
  return new Int16Array(new Uint8Array(bytes).buffer);
}

describe("deterministic audio matches piper-tts 1.8.0", () => {
  for (const item of golden.items) {
    it(`engine, windowed decoding: ${item.file}: ${JSON.stringify(item.text.slice(0, 80))}`, async () => {
      const expected = goldenSamples(item.file);
      expect(expected.length).toBe(item.num_samples);
      const scales = { noiseScale: 0, lengthScale: config.lengthScale, noiseW: 0, durationScale: 1 };
      // Piper's own ids, one sentence per inference, through the engine's whole path.
      const plan = {
        sentences: item.sentences.map((s, i) => ({ sentenceIndex: i, phonemes: [], ids: s.ids, words: [] })),
        sentenceCount: item.sentences.length,
        missingPhonemes: [],
      };
      const sentences: Int16Array[] = [];
      const modelLevel: Int16Array[] = [];
      let windows: Float32Array[] = [];
      let windowCount = 0;
      for await (const window of engine.synthesize(model, plan, { scales, speakerId: 0 }, new AbortController().signal)) {
        windows.push(window.samples);
        // The model's own level needs no look ahead: each window becomes PCM by itself.
        modelLevel.push(floatToPcm16(window.samples, 1, false));
        windowCount++;
        if (!window.last) continue;
        sentences.push(floatToPcm16(concatSamples(windows, (n) => new Float32Array(n))));
        windows = [];
      }
      expect(sentences.length).toBe(item.sentences.length);
      // The flow and the decoder really ran in the shipped windows (256 frames, a last window up to 384).
      const frames = item.sentences.map((s) => s.num_samples / 256);
      const expectedWindows = frames.reduce((n, f) => n + frameWindows(f, DECODE_WINDOWS).length, 0);
      expect(windowCount).toBe(expectedWindows);
      expectPiperSamples(
        concatSamples(sentences, (n) => new Int16Array(n)),
        expected,
      );
      expectPiperSamples(
        concatSamples(modelLevel, (n) => new Int16Array(n)),
        goldenSamples(item.model_level_file),
      );
    });
  }
});

describe("the server speaks the golden texts as Piper does, unary and streamed", () => {
  let running: RunningServer;
  beforeAll(async () => {
    running = await startServer({ MAX_CONCURRENT_REQUESTS: "1" });
  });
  afterAll(() => running.app.close());

  // At the model's own level a stream decodes a small first window (its first audio comes
  // early), so its windows differ from the unary call's and a sample may round the other way;
  // both are Piper's samples. Peak-normalized, the stream waits for each sentence's last
  // window as the unary call does, with the same windows: the same bytes.
  const levels = [
    {
      normalization: Normalization.UNSPECIFIED,
      name: "the model's own level (default)",
      file: (item: GoldenItem) => item.model_level_file,
      sameBytes: false,
    },
    { normalization: Normalization.SENTENCE_PEAK, name: "SENTENCE_PEAK", file: (item: GoldenItem) => item.file, sameBytes: true },
  ];
  for (const item of golden.items) {
    for (const level of levels) {
      it(`${level.file(item)}, ${level.name}: unary and the stream's concatenated chunks are Piper's samples${level.sameBytes ? ", and the same bytes" : ""}`, async () => {
        const expected = goldenSamples(level.file(item));
        const config = { voice: VOICE, encoding: AudioEncoding.PCM, useCache: false, normalization: level.normalization, ...NO_NOISE };
        const client = ttsClient(running);
        const unary = await client.synthesize({ text: item.text, config });
        const streamed = await collectStream(client.synthesizeStream({ text: item.text, config }));
        expectPiperSamples(pcmSamples(unary.audio), expected);
        expectPiperSamples(pcmSamples(streamed.audio), expected);
        if (level.sameBytes) expect(Buffer.from(streamed.audio).equals(Buffer.from(unary.audio))).toBe(true);
      });
    }
  }
});
