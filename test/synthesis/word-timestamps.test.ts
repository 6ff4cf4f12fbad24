// Word timestamps on Synthesize and SynthesizeStream, against the real server and voice:
// every spoken word with its span in the text as sent (code points) and its time in the
// audio, after speed, sentence silence and resampling; where the timestamps say a word is,
// the audio has sound, and where they say none is (the silence between sentences), it has
// none. Cached entries keep their timestamps. Stream chunks say which sample they start at.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, type WordTimestamp } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { startServer, type RunningServer } from "../server/running-server.js";
import { collectStream, type Config, NO_NOISE, ttsClient, VOICE_RATE } from "./support.js";

const TEXT = "Good morning, Dr. Lee. Your 3 o'clock café meeting moved to 4:30 — sorry! 👍 See you then.";
const PCM: Config = { encoding: AudioEncoding.PCM, enableWordTimestamps: true, ...NO_NOISE };

let running: RunningServer;
let cacheDir: string;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "tts-cache-"));
  running = await startServer({ CACHE_ENABLED: "true", CACHE_DIR: cacheDir });
}, 120_000);

afterAll(async () => {
  await running?.app.close();
  await rm(cacheDir, { recursive: true, force: true });
});

async function synthesize(text: string, config: Config) {
  const response = await ttsClient(running).synthesize({ text, config });
  const bytes = response.audio;
  const samples = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { response, samples, words: response.words };
}

function rms(samples: Int16Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / Math.max(1, to - from));
}

function expectSpansOf(text: string, words: readonly WordTimestamp[]): void {
  const characters = Array.from(text);
  let previousEnd = 0;
  for (const word of words) {
    expect(characters.slice(word.textStart, word.textEnd).join("")).toBe(word.word);
    expect(word.textStart).toBeGreaterThanOrEqual(previousEnd);
    previousEnd = word.textEnd;
  }
}

describe("Synthesize with enable_word_timestamps", () => {
  it("gives every spoken word with its span in the text as sent, in order in time", async () => {
    const { response, words } = await synthesize(TEXT, PCM);
    expect(words.map((w) => w.word)).toEqual([
      ...["Good", "morning", "Dr", "Lee", "Your", "3", "o'clock", "café", "meeting", "moved", "to", "4:30"],
      ...["sorry", "👍", "See", "you", "then"],
    ]);
    expectSpansOf(TEXT, words);
    for (const [i, word] of words.entries()) {
      expect(word.endSeconds).toBeGreaterThan(word.startSeconds);
      if (i > 0) expect(word.startSeconds).toBeGreaterThanOrEqual(words[i - 1]!.endSeconds);
    }
    expect(words.at(-1)!.endSeconds).toBeLessThanOrEqual(response.durationSeconds);
    expect(new Set(words.map((w) => w.sentenceIndex)).size).toBeGreaterThanOrEqual(4);
  });

  it("gives none unless asked", async () => {
    const { words } = await synthesize(TEXT, { ...PCM, enableWordTimestamps: false });
    expect(words).toEqual([]);
  });

  it("puts each word where its sound is: loud inside words, silent in the pauses between sentences", async () => {
    const text = "One apple. Two pears. Three plums.";
    const { samples, words } = await synthesize(text, { ...PCM, sentenceSilence: 1 });
    const at = (seconds: number) => Math.round(seconds * VOICE_RATE);
    const quietest = Math.min(...words.map((w) => rms(samples, at(w.startSeconds), at(w.endSeconds))));
    const firsts = words.filter((w, i) => i > 0 && w.sentenceIndex !== words[i - 1]!.sentenceIndex);
    expect(firsts).toHaveLength(2);
    for (const first of firsts) {
      const previous = words[words.indexOf(first) - 1]!;
      // The second of silence lies between the sentence's last word and the next one's first.
      expect(first.startSeconds - previous.endSeconds).toBeGreaterThanOrEqual(1);
      const gap = rms(samples, at(previous.endSeconds) + 2205, at(first.startSeconds) - 2205);
      expect(quietest).toBeGreaterThan(20 * Math.max(gap, 1));
    }
  });

  it("scales the times with speed and keeps them through resampling", async () => {
    const text = "Timing follows the speaking rate.";
    const { words: normal, response: normalAudio } = await synthesize(text, PCM);
    const { words: slow, response: slowAudio } = await synthesize(text, { ...PCM, speed: 0.5 });
    const resampled = (await synthesize(text, { ...PCM, sampleRate: 8000 })).words;
    expect(slow.map((w) => w.word)).toEqual(normal.map((w) => w.word));
    // Half the speed doubles length_scale; each id's frames are rounded up, so the audio grows
    // by less than 2x, and the words' times grow with the audio.
    const audioRatio = slowAudio.durationSeconds / normalAudio.durationSeconds;
    expect(audioRatio).toBeGreaterThan(1.5);
    for (const [i, word] of slow.entries()) {
      expect(word.startSeconds / slowAudio.durationSeconds).toBeCloseTo(normal[i]!.startSeconds / normalAudio.durationSeconds, 1);
    }
    expect(resampled.map((w) => [w.startSeconds, w.endSeconds])).toEqual(normal.map((w) => [w.startSeconds, w.endSeconds]));
  });

  it("replays the timestamps from the cache, and gives a differently spaced text its own offsets", async () => {
    const text = "Cached words keep their times.";
    const first = await synthesize(text, PCM);
    const again = await synthesize(text, PCM);
    expect(first.response.cached).toBe(false);
    expect(again.response.cached).toBe(true);
    expect(again.words).toEqual(first.words);
    const spaced = "  Cached   words keep their times.";
    const other = await synthesize(spaced, PCM);
    expectSpansOf(spaced, other.words);
    expect(other.words.map((w) => w.word)).toEqual(first.words.map((w) => w.word));
    expect(other.words.map((w) => w.startSeconds)).toEqual(first.words.map((w) => w.startSeconds));
  });
});

describe("SynthesizeStream with enable_word_timestamps", () => {
  it("sends each sentence's words before its first chunk, the same words Synthesize gives", async () => {
    const config = { ...PCM, useCache: false };
    const unary = (await synthesize(TEXT, config)).words;
    const messages = ttsClient(running).synthesizeStream({ text: TEXT, config });
    const order: string[] = [];
    const words: WordTimestamp[] = [];
    for await (const message of messages) {
      const { event } = message;
      if (event.case === "timestamps") {
        order.push(`timestamps ${event.value.sentenceIndex}`);
        words.push(...event.value.words);
      } else if (event.case === "chunk" && !order.includes(`chunk ${event.value.sentenceIndex}`)) {
        order.push(`chunk ${event.value.sentenceIndex}`);
      }
    }
    for (const entry of order.filter((e) => e.startsWith("chunk"))) {
      const index = Number(entry.split(" ")[1]);
      expect(order.indexOf(`timestamps ${index}`)).toBeLessThan(order.indexOf(entry));
    }
    expect(words).toEqual(unary);
  });

  it("numbers each chunk with the sample it starts at", async () => {
    const stream = await collectStream(
      ttsClient(running).synthesizeStream({ text: TEXT, config: { encoding: AudioEncoding.PCM, useCache: false } }),
    );
    let bytes = 0;
    for (const chunk of stream.chunks) {
      expect(Number(chunk.sampleOffset)).toBe(Math.floor(bytes / 2));
      bytes += chunk.audio.length;
    }
    expect(stream.chunks.length).toBeGreaterThan(3);
  });
});
