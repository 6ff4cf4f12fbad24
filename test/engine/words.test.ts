/**
 * Word timings, engine side: each planned sentence knows which word of the text (a span in
 * code points) every phoneme speaks, and the model's own per-id durations place each word in
 * the sentence's audio. Real espeak-ng, real voice, real encoder and decoder.
 */
import { readFileSync } from "node:fs";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NothingToSpeakError } from "../../src/errors/index.js";
import { type Plan, planSpeech, type PlannedSentence, wordIntervals } from "../../src/engine/index.js";
import { espeakClauses } from "../../src/engine/espeak.js";
import { type VoiceGraph, VoiceSession } from "../../src/engine/inference.js";
import { readVoiceConfig } from "../../src/engine/voice-config.js";
import { prepareVoice } from "../../src/engine/voice-graph.js";
import { VoiceCatalog } from "../../src/voices/index.js";
import { DEFAULT_CONFIG, DEFAULT_VOICE, MODELS_DIR } from "../support/voice.js";

const voice = await readVoiceConfig(DEFAULT_CONFIG);
const corpus = readFileSync("test/golden/corpus.txt", "utf8")
  .split("\n")
  .filter((line) => line.length > 0);
/** Phonemes that are pauses, not speech: spaces and the clause terminators Piper writes. */
const PAUSE = new Set([" ", ".", ",", ";", ":", "!", "?"]);

/** The text of each planned word, in order, across the plan's sentences. */
function spokenWords(text: string): string[] {
  const characters = Array.from(text);
  return planSpeech(text, voice).sentences.flatMap((s) => s.words.map((w) => characters.slice(w.textStart, w.textEnd).join("")));
}

/** Every speech phoneme is in exactly one word; words are ordered and their ranges valid. */
function expectPhonemesCovered(sentence: PlannedSentence): void {
  const owners = sentence.phonemes.map(() => 0);
  let previousEnd = 0;
  for (const word of sentence.words) {
    expect(word.phonemeStart).toBeGreaterThanOrEqual(previousEnd);
    expect(word.phonemeEnd).toBeGreaterThan(word.phonemeStart);
    expect(PAUSE.has(sentence.phonemes[word.phonemeStart]!)).toBe(false);
    expect(PAUSE.has(sentence.phonemes[word.phonemeEnd - 1]!)).toBe(false);
    for (let i = word.phonemeStart; i < word.phonemeEnd; i++) owners[i]!++;
    // BOS and its PAD come first, EOS last: a word's ids are between.
    expect(word.idStart).toBeGreaterThanOrEqual(2);
    expect(word.idEnd).toBeLessThan(sentence.ids.length);
    previousEnd = word.phonemeEnd;
  }
  sentence.phonemes.forEach((phoneme, i) => {
    if (!PAUSE.has(phoneme)) expect(owners[i], `phoneme ${i} "${phoneme}" of ${sentence.phonemes.join("")}`).toBe(1);
  });
}

describe("the words of a plan", () => {
  it.each([
    ["I have 123 apples.", ["I", "have", "123", "apples"]],
    ["Pi is 3.14, and 1,000,000 people left at 7:15.", ["Pi", "is", "3.14", "and", "1,000,000", "people", "left", "at", "7:15"]],
    ["Dr. Smith said e.g. no.", ["Dr", "Smith", "said", "e.g.", "no"]],
    [
      "Mr. and Mrs. Jones paid $5 for 10% of the U.S.A. stock.",
      ["Mr", "and", "Mrs", "Jones", "paid", "$5", "for", "10%", "of the", "U.S.A.", "stock"],
    ],
    ["I don't know, it's well-known: twenty-one.", ["I", "don't", "know", "it's", "well-known", "twenty-one"]],
    ["It was kind of a mess, in front of the house.", ["It", "was", "kind", "of a", "mess", "in", "front", "of the", "house"]],
    ["Smile 😀 now, 中 and café!", ["Smile", "😀", "now", "中", "and", "café"]],
    ['  "Hello,"   she   said.\n\nThen  (quietly) left...', ["Hello", "she", "said", "Then", "quietly", "left"]],
    ["hello...world COVID-19 #tag", ["hello", "world", "COVID-19", "#tag"]],
    ["Wow!!! (50 %)", ["Wow", "50", "%"]],
    ["Say [[ həlˈoʊ wˈɜːld ]] to me. [[ bˈaɪ ]]", ["Say", "[[ həlˈoʊ wˈɜːld ]]", "to", "me", "[[ bˈaɪ ]]"]],
  ])("%j: spans are the text words espeak spoke", (text, words) => {
    expect(spokenWords(text)).toEqual(words);
    for (const sentence of planSpeech(text, voice).sentences) expectPhonemesCovered(sentence);
  });

  it("a number espeak speaks as several words is one word with all of their phonemes", () => {
    const [sentence] = planSpeech("123 apples", voice).sentences;
    const [number] = sentence!.words;
    expect(sentence!.phonemes.slice(number!.phonemeStart, number!.phonemeEnd).join("")).toBe("wˈʌnhˈʌndɹɪd twˈɛnti θɹˈiːʲ");
  });

  it("offsets count code points: an astral emoji is one, a NUL byte (which espeak never sees) is one", () => {
    const words = (text: string) => planSpeech(text, voice).sentences.flatMap((s) => s.words.map((w) => [w.textStart, w.textEnd]));
    expect(words("😀😀 hi")).toEqual([
      [0, 2],
      [3, 5],
    ]);
    expect(words("hi\u0000 there you")).toEqual([
      [0, 2],
      [4, 9],
      [10, 13],
    ]);
  });

  it("espeak's clauses say where the next one begins in the text, in code points", () => {
    expect(espeakClauses("en-us", "One, two. 😀 Three").map((c) => c.end)).toEqual([5, 10, 17]);
    expect(espeakClauses("en-us", "A.\n\nB\nC").map((c) => c.end)).toEqual([4, 7]);
  });

  // A word's text holds a letter or digit, or is symbols espeak names ("%" is "percent", "🍕"
  // is "pizza", "!!!" is "exclamation").
  it("every golden corpus line plans with words whose spans hold what was spoken, in text order", () => {
    let words = 0;
    for (const line of corpus) {
      const characters = Array.from(line);
      let plan: Plan;
      try {
        plan = planSpeech(line, voice);
      } catch (error) {
        if (error instanceof NothingToSpeakError) continue; // "..."
        throw error;
      }
      let previousEnd = 0;
      for (const sentence of plan.sentences) {
        expect(sentence.words.length, line).toBeGreaterThan(0);
        expectPhonemesCovered(sentence);
        for (const word of sentence.words) {
          expect(word.textStart, line).toBeGreaterThanOrEqual(previousEnd);
          expect(word.textEnd, line).toBeGreaterThan(word.textStart);
          expect(word.textEnd, line).toBeLessThanOrEqual(characters.length);
          const text = characters.slice(word.textStart, word.textEnd).join("");
          expect(text, line).toMatch(/^\S(?:.*\S)?$/su);
          if (!/[\p{L}\p{N}]/u.test(text)) expect(text, line).toMatch(/^(?:[\p{S}\p{P}]|\u200d|\ufe0f)+$/u);
          previousEnd = word.textEnd;
          words++;
        }
      }
    }
    expect(words).toBeGreaterThan(1400);
  });
});

describe("word intervals from the model's durations", () => {
  let session: VoiceSession;
  beforeAll(async () => {
    const catalogued = await new VoiceCatalog(MODELS_DIR, pino({ level: "silent" })).voice(DEFAULT_VOICE);
    const prepared = await prepareVoice(catalogued.modelFile, catalogued.modelHash, catalogued.config, { intraOpThreads: 1 });
    const graph: VoiceGraph = prepared.graph;
    session = await VoiceSession.load(graph, catalogued.config, { intraOpThreads: 1 });
  });
  afterAll(async () => {
    await session?.release();
  });

  /** A sentence's samples and per-id durations, at noise 0 so that runs repeat. */
  async function speak(sentence: PlannedSentence): Promise<{ samples: Float32Array; idDurations: number[] }> {
    const parts: Float32Array[] = [];
    let idDurations: number[] | undefined;
    for await (const window of session.speak(
      sentence.ids,
      { noiseScale: 0, lengthScale: voice.lengthScale, noiseW: 0, durationScale: 1 },
      0,
    )) {
      parts.push(window.samples);
      idDurations ??= window.idDurations;
    }
    const samples = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      samples.set(part, offset);
      offset += part.length;
    }
    expect(idDurations).toHaveLength(sentence.ids.length);
    return { samples, idDurations: idDurations! };
  }

  it("are in word order, never overlap, and end within the sentence's samples", async () => {
    for (const line of [corpus[0]!, corpus[20]!, corpus[100]!, corpus[217]!]) {
      for (const sentence of planSpeech(line, voice).sentences) {
        const { samples, idDurations } = await speak(sentence);
        const intervals = wordIntervals(sentence.words, idDurations);
        expect(intervals.map((i) => [i.textStart, i.textEnd])).toEqual(sentence.words.map((w) => [w.textStart, w.textEnd]));
        let previousEnd = 0;
        for (const interval of intervals) {
          expect(interval.startSample).toBeGreaterThanOrEqual(previousEnd);
          expect(interval.endSample).toBeGreaterThan(interval.startSample);
          previousEnd = interval.endSample;
        }
        expect(previousEnd).toBeLessThanOrEqual(samples.length);
      }
    }
  });

  it("hold the words' sound, and the pauses between them are outside (comma pauses, noise 0)", async () => {
    const [sentence] = planSpeech("Seven, eight, nine.", voice).sentences;
    const { samples, idDurations } = await speak(sentence!);
    const intervals = wordIntervals(sentence!.words, idDurations);
    expect(intervals).toHaveLength(3);
    const rms = (from: number, to: number) => Math.sqrt(samples.subarray(from, to).reduce((sum, s) => sum + s * s, 0) / (to - from));
    const words = intervals.map((i) => rms(i.startSample, i.endSample));
    const pauses = intervals.slice(1).map((interval, k) => rms(intervals[k]!.endSample, interval.startSample));
    for (const word of words) for (const pause of pauses) expect(word).toBeGreaterThan(8 * pause);
  });
});
