import { describe, expect, it } from "vitest";
import { shiftPitch } from "../../src/audio/pitch.js";
import { harmonicTone, rms, yinF0 } from "./support.js";

const RATE = 22050;

/** Seconds from the first to the last 10 ms block louder than a quarter of the loudest. */
function soundingSpan(samples: Int16Array): { start: number; end: number } {
  const block = Math.round(RATE / 100);
  const levels: number[] = [];
  for (let at = 0; at + block <= samples.length; at += block) levels.push(rms(samples, at, at + block));
  const threshold = Math.max(...levels) / 4;
  const loud = levels.map((level, k) => (level > threshold ? k : -1)).filter((k) => k >= 0);
  return { start: loud[0]! / 100, end: (loud.at(-1)! + 1) / 100 };
}

describe("shiftPitch", () => {
  // 0.3 s of silence, 1.5 s of a 150 Hz voiced-like tone, 0.3 s of silence.
  const source = new Int16Array(Math.round(2.1 * RATE));
  source.set(harmonicTone(RATE, 1.5, 150), Math.round(0.3 * RATE));

  it.each([0.5, 0.8, 1.25, 2.0])("factor %f: F0 within 5 percent of 150 Hz × factor, duration within 5 percent", async (factor) => {
    const shifted = await shiftPitch(source, RATE, factor);
    expect(shifted.length).toBe(source.length);
    const middle = Math.round(1.05 * RATE);
    const f0 = yinF0(shifted, RATE, middle - 1000, 2000);
    expect(Math.abs(f0 / (150 * factor) - 1)).toBeLessThan(0.05);
    const span = soundingSpan(shifted);
    expect(Math.abs(span.end - span.start - 1.5)).toBeLessThan(1.5 * 0.05);
    expect(Math.abs(span.start - 0.3)).toBeLessThan(0.03);
  });

  it("measures the unshifted tone at 150 Hz (the estimator itself)", () => {
    expect(yinF0(source, RATE, Math.round(1.05 * RATE) - 1000, 2000)).toBeCloseTo(150, 0);
  });

  it("returns a copy at factor 1 and rejects factors outside 0.5 to 2", async () => {
    const same = await shiftPitch(source, RATE, 1);
    expect(same).toEqual(source);
    expect(same).not.toBe(source);
    await expect(shiftPitch(source, RATE, 0.49)).rejects.toThrow(RangeError);
    await expect(shiftPitch(source, RATE, 2.01)).rejects.toThrow(RangeError);
    await expect(shiftPitch(source, RATE, Number.NaN)).rejects.toThrow(RangeError);
  });
});
