/**
 * Audio parity with Piper: Piper's own phoneme ids for the golden sentences, run through
 * this engine with noise_scale = noise_w = 0 and converted to 16-bit PCM, must give
 * Piper's samples: the same length and correlation >= 0.999. (Measured here: identical
 * lengths and differences of at most ±1 LSB, from onnxruntime's thread-count dependent
 * float summation, as the golden data's own determinism check records.)
 */
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { floatToPcm16 } from "../../src/audio/pcm.js";
import pino from "pino";
import { Engine } from "../../src/engine/index.js";
import { VoiceCatalog } from "../../src/voices/index.js";
import { correlation } from "../audio/support.js";
import { DEFAULT_VOICE, MODELS_DIR } from "../support/voice.js";

interface GoldenItem {
  file: string;
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

describe("deterministic audio matches piper-tts 1.8.0", () => {
  for (const item of golden.items) {
    it(`${item.file}: ${JSON.stringify(item.text)}`, async () => {
      const expected = goldenSamples(item.file);
      expect(expected.length).toBe(item.num_samples);
      const scales = { noiseScale: 0, lengthScale: config.lengthScale, noiseW: 0 };
      // Piper's own ids, one piece per sentence, through the engine's whole path.
      const plan = {
        pieces: item.sentences.map((s, i) => ({ sentenceIndex: i, phonemes: [], ids: s.ids })),
        sentenceCount: item.sentences.length,
        missingPhonemes: [],
      };
      const sentences: Int16Array[] = [];
      for await (const { samples } of engine.synthesize(model, plan, { scales, speakerId: 0 }, new AbortController().signal)) {
        sentences.push(floatToPcm16(samples));
      }
      const ours = new Int16Array(sentences.reduce((n, s) => n + s.length, 0));
      let offset = 0;
      for (const sentence of sentences) {
        ours.set(sentence, offset);
        offset += sentence.length;
      }
      expect(ours.length).toBe(expected.length);
      expect(correlation(ours, expected)).toBeGreaterThanOrEqual(0.999);
      let largest = 0;
      for (let i = 0; i < ours.length; i++) largest = Math.max(largest, Math.abs(ours[i]! - expected[i]!));
      expect(largest).toBeLessThanOrEqual(1);
    });
  }
});
