/**
 * Sentences and encoder runs: a sentence is one run whatever its length up to
 * MAX_SENTENCE_PHONEMES (Piper's own audio), and only a longer one is cut, at a clause
 * pause, into parts that together are the whole sentence.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MAX_SENTENCE_PHONEMES, planSpeech } from "../../src/engine/index.js";
import { phonemize } from "../../src/engine/phonemize.js";
import { readVoiceConfig } from "../../src/engine/voice-config.js";
import { DEFAULT_CONFIG } from "../support/voice.js";

const voice = await readVoiceConfig(DEFAULT_CONFIG);
const corpus = readFileSync("test/golden/corpus.txt", "utf8").split("\n");
/** Corpus line 221: one sentence of 1062 phonemes. */
const LONG_SENTENCE = corpus[220]!;

describe("one sentence, one encoder run", () => {
  it("a sentence of 1062 phonemes is one run with Piper's ids", () => {
    const plan = planSpeech(LONG_SENTENCE, voice);
    expect(plan.sentences).toHaveLength(1);
    expect(plan.sentences[0]!.phonemes).toHaveLength(1062);
    const golden = JSON.parse(readFileSync("test/golden/phoneme-ids.json", "utf8")) as {
      entries: { line: number; sentences: { ids: number[] }[] }[];
    };
    expect(plan.sentences[0]!.ids).toEqual(golden.entries.find((e) => e.line === 221)!.sentences[0]!.ids);
  });

  it("a paragraph's sentences are one run each, never cut at their commas", () => {
    const text = corpus[217]!; // 426 phonemes, four commas
    const plan = planSpeech(`${text} ${text}`, voice);
    expect(plan.sentences.map((s) => [s.sentenceIndex, s.phonemes.length])).toEqual([
      [0, 426],
      [1, 426],
    ]);
  });

  it("a sentence over MAX_SENTENCE_PHONEMES (a whole 5000-character text without a full stop) is cut into parts that make it up", () => {
    let text = LONG_SENTENCE;
    while (text.length + LONG_SENTENCE.length + 2 <= 5000) text += `, ${LONG_SENTENCE}`;
    const [whole] = phonemize(text, voice);
    expect(phonemize(text, voice)).toHaveLength(1);
    expect(whole!.length).toBeGreaterThan(3 * MAX_SENTENCE_PHONEMES);
    const plan = planSpeech(text, voice);
    expect(plan.sentences.length).toBeGreaterThanOrEqual(4);
    for (const part of plan.sentences) {
      expect(part.sentenceIndex).toBe(0);
      expect(part.phonemes.length).toBeLessThanOrEqual(MAX_SENTENCE_PHONEMES);
    }
    // Cut after a clause pause: every part but the last ends with ", ".
    for (const part of plan.sentences.slice(0, -1)) expect(part.phonemes.slice(-2)).toEqual([",", " "]);
    expect(plan.sentences.flatMap((s) => s.phonemes)).toEqual(whole);
  });
});
