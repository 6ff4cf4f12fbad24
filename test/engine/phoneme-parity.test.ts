/**
 * Phoneme-id parity with Piper: every line of the golden corpus (test/golden, made by
 * piper-tts 1.8.0) must give exactly Piper's ids.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { phonemize } from "../../src/engine/phonemize.js";
import { phonemeIds } from "../../src/engine/phoneme-ids.js";
import { readVoiceConfig } from "../../src/engine/voice-config.js";
import { DEFAULT_CONFIG } from "../support/voice.js";

interface GoldenEntry {
  line: number;
  text: string;
  sentences: { phonemes: string[]; ids: number[] }[];
}

const golden = JSON.parse(readFileSync("test/golden/phoneme-ids.json", "utf8")) as { entries: GoldenEntry[] };
const voice = await readVoiceConfig(DEFAULT_CONFIG);
const idsOf = (text: string) => phonemize(text, voice).map((sentence) => phonemeIds(sentence, voice).ids);

describe("phoneme ids match piper-tts 1.8.0", () => {
  it("covers a corpus of at least 150 lines", () => {
    expect(golden.entries.length).toBeGreaterThanOrEqual(150);
  });

  for (const entry of golden.entries) {
    it(`line ${entry.line}: ${JSON.stringify(entry.text).slice(0, 60)}`, () => {
      expect(idsOf(entry.text)).toEqual(entry.sentences.map((s) => s.ids));
    });
  }
});

describe("phonemization rules", () => {
  it("keeps clause terminators, with a space after , : ;", () => {
    const [sentence] = phonemize("One, two; three: four.", voice);
    const text = sentence!.join("");
    expect(text).toMatch(/, .*; .*: .*\.$/);
  });

  it("starts a new sentence after . ? !", () => {
    expect(phonemize("Yes. No? Maybe!", voice)).toHaveLength(3);
  });

  it("passes raw [[ phonemes ]] through unchanged", () => {
    const [sentence] = phonemize("[[ həlˈoʊ ]]", voice);
    expect(sentence!.join("")).toBe("həlˈoʊ");
  });

  it("treats text voices' input as codepoints after NFD", () => {
    const textVoice = { ...voice, phonemeType: "text" as const };
    expect(phonemize("é", textVoice)).toEqual([["e", "\u0301"]]);
  });

  it("frames ids as ^ _ (id _)* $ and drops phonemes the map lacks", () => {
    const { ids, missing } = phonemeIds(["a", "☃", "b"], voice);
    const id = (p: string) => voice.phonemeIdMap.get(p)![0];
    expect(ids).toEqual([id("^"), id("_"), id("a"), id("_"), id("b"), id("_"), id("$")]);
    expect(missing).toEqual(["☃"]);
  });
});
