import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { floatToPcm16 } from "../../src/audio/pcm.js";
import { createSilence } from "../../src/audio/silence.js";

interface PiperCase {
  name: string;
  volume: number;
  input: number[];
  expected: number[];
}

// Made by fixtures/piper_pcm16.py from piper-tts's own synthesize() and AudioChunk code.
const golden: { cases: PiperCase[] } = JSON.parse(readFileSync(new URL("./fixtures/piper-pcm16.json", import.meta.url), "utf8"));

describe("floatToPcm16", () => {
  it.each(golden.cases.map((c) => [c.name, c] as const))("matches Piper sample for sample: %s", (_name, piperCase) => {
    const out = floatToPcm16(Float32Array.from(piperCase.input), piperCase.volume);
    expect(Array.from(out)).toEqual(piperCase.expected);
  });

  it("normalizes the peak to ±32767 and never produces -32768", () => {
    expect(Array.from(floatToPcm16(Float32Array.from([0.1, -0.2, 0.05])))).toEqual([16383, -32767, 8191]);
    expect(Math.min(...floatToPcm16(Float32Array.from([-5, 1]), 4))).toBe(-32767);
  });

  it("turns NaN into 0 instead of NumPy's undefined cast", () => {
    expect(Array.from(floatToPcm16(Float32Array.from([Number.NaN, 0.5])))).toEqual([0, 32767]);
  });
});

describe("createSilence", () => {
  it("lasts int(rate × seconds) zero samples, as Piper counts sentence_silence", () => {
    const silence = createSilence(0.25, 22050);
    expect(silence.length).toBe(5512);
    expect(silence.every((s) => s === 0)).toBe(true);
    expect(createSilence(0, 48000).length).toBe(0);
    expect(createSilence(5, 8000).length).toBe(40000);
  });

  it("rejects negative or infinite durations", () => {
    expect(() => createSilence(-0.1, 22050)).toThrow(RangeError);
    expect(() => createSilence(Number.POSITIVE_INFINITY, 22050)).toThrow(RangeError);
  });
});
