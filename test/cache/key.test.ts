import { describe, expect, it } from "vitest";
import { cacheKey, type CacheKeyParts } from "../../src/cache/index.js";

const base: CacheKeyParts = {
  text: "Hello world. How are you?",
  voice: "en_US-joe-medium",
  speakerId: 0,
  speed: 1,
  pitch: 1,
  volume: 1,
  peakNormalized: false,
  noiseScale: 0.667,
  noiseW: 0.8,
  sentenceSilence: 0,
  encoding: "wav",
  sampleRate: 22050,
  modelHash: "sha256:0f3a",
};

describe("cacheKey", () => {
  it("is a SHA-256 hex digest, the same for the same parts", () => {
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey({ ...base })).toBe(cacheKey(base));
  });

  it("is stable across whitespace and Unicode normalization variants", () => {
    const key = cacheKey({ ...base, text: "Café au lait" });
    expect(cacheKey({ ...base, text: "  Café \t au\n\nlait " })).toBe(key);
    expect(cacheKey({ ...base, text: "Cafe\u0301 au lait" })).toBe(key); // decomposed é
    expect(cacheKey({ ...base, text: "Caf\u00e9\u00a0au lait" })).toBe(key); // no-break space
  });

  it("treats a float32 value from the wire and its float64 literal as one", () => {
    expect(cacheKey({ ...base, speed: Math.fround(1.1) })).toBe(cacheKey({ ...base, speed: 1.1 }));
    expect(cacheKey({ ...base, sentenceSilence: -0 })).toBe(cacheKey(base));
  });

  const changes: Array<[keyof CacheKeyParts, string | number | boolean]> = [
    ["text", "Hello world. How are you!"],
    ["voice", "en_US-amy-medium"],
    ["speakerId", 1],
    ["speed", 1.25],
    ["pitch", 0.9],
    ["volume", 2],
    ["peakNormalized", true],
    ["noiseScale", 0],
    ["noiseW", 0],
    ["sentenceSilence", 0.5],
    ["encoding", "mp3"],
    ["sampleRate", 16000],
    ["modelHash", "sha256:9c1d"],
  ];
  it.each(changes)("changes when %s changes", (part, value) => {
    expect(cacheKey({ ...base, [part]: value })).not.toBe(cacheKey(base));
  });

  it("keeps meaningful text differences apart", () => {
    expect(cacheKey({ ...base, text: "hello world. how are you?" })).not.toBe(cacheKey(base));
    expect(cacheKey({ ...base, text: "Hello world.How are you?" })).not.toBe(cacheKey(base));
  });

  it("does not let one field bleed into the next", () => {
    expect(cacheKey({ ...base, voice: "a", encoding: "bc" })).not.toBe(cacheKey({ ...base, voice: "ab", encoding: "c" }));
  });

  it("rejects values that have no canonical form", () => {
    expect(() => cacheKey({ ...base, speed: Number.NaN })).toThrow(RangeError);
    expect(() => cacheKey({ ...base, speakerId: 1.5 })).toThrow(RangeError);
  });
});
