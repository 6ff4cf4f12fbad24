import { describe, expect, it } from "vitest";
import { decodeEntry, encodeEntry } from "../../src/cache/codec.js";
import type { CacheEntry } from "../../src/cache/entry.js";
import { sampleAudio } from "./fixtures.js";

const entry: CacheEntry = { audio: sampleAudio(1000, 3), storedAt: 1_700_000_000_000 };

describe("entry codec", () => {
  it("round-trips the audio and its metadata", () => {
    expect(decodeEntry("k1", encodeEntry("k1", entry))).toEqual(entry);
  });

  it("round-trips an entry without sentence boundaries", () => {
    const { sentenceByteEnds: _, ...audio } = sampleAudio(10);
    const plain = { audio, storedAt: 1 };
    expect(decodeEntry("k1", encodeEntry("k1", plain))).toEqual(plain);
  });

  it("rejects a value cut short anywhere", () => {
    const data = encodeEntry("k1", entry);
    for (const length of [0, 5, 20, data.length - 1]) {
      expect(() => decodeEntry("k1", data.subarray(0, length))).toThrow(/cache entry/);
    }
  });

  it("rejects a value stored under another key", () => {
    expect(() => decodeEntry("k2", encodeEntry("k1", entry))).toThrow(/another key/);
  });

  it("rejects data that is not an entry", () => {
    expect(() => decodeEntry("k1", Buffer.from("RIFF....WAVEfmt "))).toThrow(/not an AETC entry/);
  });
});
