/**
 * Phoneme-id parity with Piper on the committed sample of the parity sweep (test/golden/sweep,
 * chosen by tools/golden/sweep_corpus.py, ids made by piper-tts 1.8.0): about 2,000 items from
 * every category of the 30,000-item sweep, which `npm run test:parity` runs in full.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { phonemize } from "../../src/engine/phonemize.js";
import { phonemeIds } from "../../src/engine/phoneme-ids.js";
import { readVoiceConfig } from "../../src/engine/voice-config.js";
import { DEFAULT_CONFIG } from "../support/voice.js";

interface SampleItem {
  item: number;
  category: string;
  text: string;
  sentences: { phonemes: string; ids: number[] }[];
}

const { items, sample } = JSON.parse(readFileSync("test/golden/sweep/sample.json", "utf8")) as { items: number; sample: SampleItem[] };
const voice = await readVoiceConfig(DEFAULT_CONFIG);
const byCategory = new Map<string, SampleItem[]>();
for (const entry of sample) byCategory.set(entry.category, [...(byCategory.get(entry.category) ?? []), entry]);

describe("sweep sample: phoneme ids match piper-tts 1.8.0", () => {
  it("samples about 2,000 of at least 20,000 items, every category", () => {
    expect(items).toBeGreaterThanOrEqual(20_000);
    expect(sample.length).toBeGreaterThanOrEqual(1_900);
    expect(byCategory.size).toBeGreaterThanOrEqual(25);
  });

  it('reads "has been" as Piper does, not as the noun "has-been"', () => {
    const [sentence] = phonemize("It has been moved.", voice);
    expect(sentence!.join("")).toBe("ɪt hɐzbɪn mˈuːvd.");
  });

  for (const [category, entries] of byCategory) {
    it(`${category} (${entries.length} items)`, () => {
      // Item, text and ids side by side, so a failure names every differing input.
      const ours = entries.map((e) => ({ item: e.item, text: e.text, ids: phonemize(e.text, voice).map((s) => phonemeIds(s, voice).ids) }));
      const piper = entries.map((e) => ({ item: e.item, text: e.text, ids: e.sentences.map((s) => s.ids) }));
      expect(ours).toEqual(piper);
    });
  }
});
