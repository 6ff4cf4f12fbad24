import { describe, expect, it } from "vitest";
import { createResampler } from "../../src/audio/resample.js";
import { chirp, magnitudeAt, rms, tone } from "./support.js";

const RATES = [8000, 16000, 22050, 24000, 44100, 48000];

describe("createResampler", () => {
  it.each(RATES.flatMap((from) => RATES.filter((to) => to !== from).map((to) => [from, to])))(
    "%i → %i Hz: each piece gives round(n·out/in) ± 1 samples and the stream keeps its duration",
    async (from, to) => {
      const resampler = await createResampler(from, to);
      const source = chirp(from, 1);
      let total = 0;
      const sizes = [1, 4410, 0, 777, 10000, 3];
      for (let offset = 0, k = 0; offset < source.length; k++) {
        const n = Math.min(sizes[k % sizes.length]!, source.length - offset);
        const piece = resampler.process(source.subarray(offset, offset + n));
        expect(Math.abs(piece.length - (n * to) / from)).toBeLessThanOrEqual(1);
        total += piece.length;
        offset += n;
      }
      expect(total).toBe(Math.round((source.length * to) / from));
    },
  );

  it("keeps a tone's frequency and level", async () => {
    const resampler = await createResampler(22050, 48000);
    const out = resampler.process(tone(22050, 1, 1000));
    expect(out.length).toBe(48000);
    expect(magnitudeAt(out, 48000, 1000)).toBeCloseTo(12000, -2); // within ±50 of 12000
    expect(rms(out, 100, out.length - 100)).toBeCloseTo(12000 / Math.SQRT2, -2);
  });

  it("band-limits: a 5 kHz tone taken from 22050 to 8000 Hz is removed, not aliased to 3 kHz", async () => {
    const source = tone(22050, 1, 5000);
    const out = (await createResampler(22050, 8000)).process(source);
    const body = out.subarray(200, out.length - 200);
    // Plain decimation would fold 5 kHz to 8000 - 5000 = 3 kHz at nearly full level.
    expect(magnitudeAt(body, 8000, 3000)).toBeLessThan(12000 * 0.001); // at least 60 dB down
    expect(rms(body)).toBeLessThan(12000 * 0.003);
    // A tone inside the new band passes.
    const passed = (await createResampler(22050, 8000)).process(tone(22050, 1, 3000));
    expect(magnitudeAt(passed.subarray(200, passed.length - 200), 8000, 3000)).toBeGreaterThan(12000 * 0.98);
  });

  it("continues a stream across pieces: each piece starts exactly where one-shot resampling would be", async () => {
    const source = chirp(22050, 1.5);
    const whole = (await createResampler(22050, 48000)).process(source);
    const streamed = await createResampler(22050, 48000);
    let outputAt = 0;
    for (let offset = 0; offset < source.length; offset += 5000) {
      const piece = streamed.process(source.subarray(offset, offset + 5000));
      // The first 5 ms of every piece match one-shot output to ±1 LSB: no click on the way in.
      const head = Math.min(240, piece.length);
      for (let i = 0; i < head; i++) expect(Math.abs(piece[i]! - whole[outputAt + i]!)).toBeLessThanOrEqual(1);
      outputAt += piece.length;
    }
    expect(outputAt).toBe(whole.length);
  });

  it("joins sentences that end in silence without any difference from one-shot output", async () => {
    const sentence = new Int16Array(22050);
    sentence.set(chirp(22050, 0.8), 1000); // 45 ms of silence before, 190 ms after
    const source = new Int16Array(3 * sentence.length);
    for (let k = 0; k < 3; k++) source.set(sentence, k * sentence.length);
    const whole = (await createResampler(22050, 16000)).process(source);
    const streamed = await createResampler(22050, 16000);
    const joined = [0, 1, 2].flatMap((k) => Array.from(streamed.process(source.subarray(k * 22050, (k + 1) * 22050))));
    expect(joined.length).toBe(whole.length);
    expect(Math.max(...joined.map((v, i) => Math.abs(v - whole[i]!)))).toBeLessThanOrEqual(1);
  });

  it("copies samples when the rates are equal and rejects unusable rates", async () => {
    const samples = chirp(24000, 0.1);
    const same = (await createResampler(24000, 24000)).process(samples);
    expect(same).toEqual(samples);
    expect(same).not.toBe(samples);
    await expect(createResampler(22050, 0)).rejects.toThrow(RangeError);
    await expect(createResampler(22050.5, 8000)).rejects.toThrow(RangeError);
  });
});
