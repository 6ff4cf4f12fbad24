// Voice controls end to end, measured on the decoded audio: noise (determinism), speed
// (duration), pitch (median F0 of voiced frames, by YIN), volume (peak, saturation
// without wrap-around) and sentence_silence (added duration, and that it is silent).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, Normalization } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { startServer, type RunningServer } from "../server/running-server.js";
import { countAtLeast, decode, f0Track, median, NO_NOISE, peak, ttsClient, voiced, VOICE_RATE, type Config } from "./support.js";

const SENTENCE = "The rainbow is a division of white light into many beautiful colors.";

let running: RunningServer;
beforeAll(async () => {
  running = await startServer();
});
afterAll(() => running.app.close());

async function synthesize(config: Config, text = SENTENCE): Promise<{ bytes: Uint8Array; samples: Int16Array; durationSeconds: number }> {
  const response = await ttsClient(running).synthesize({ text, config: { encoding: AudioEncoding.WAV, useCache: false, ...config } });
  const samples = await decode(response.audio);
  expect(samples.length).toBe(Math.round(response.durationSeconds * VOICE_RATE));
  return { bytes: response.audio, samples, durationSeconds: response.durationSeconds };
}

const seconds = (samples: Int16Array) => samples.length / VOICE_RATE;

describe("noise", () => {
  it("noise_scale 0 and noise_w 0 give identical audio twice; the voice's default noise does not", async () => {
    const [a, b] = [await synthesize(NO_NOISE), await synthesize(NO_NOISE)];
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    const [c, d] = [await synthesize({}), await synthesize({})];
    expect(Buffer.from(c.bytes).equals(Buffer.from(d.bytes))).toBe(false);
    expect(Buffer.from(c.bytes).equals(Buffer.from(a.bytes))).toBe(false);
  });
});

describe("speed", () => {
  it("2.0 takes about half as long and 0.5 about twice as long as 1.0", async () => {
    const normal = seconds((await synthesize({ ...NO_NOISE, speed: 1 })).samples);
    const fast = seconds((await synthesize({ ...NO_NOISE, speed: 2 })).samples);
    const slow = seconds((await synthesize({ ...NO_NOISE, speed: 0.5 })).samples);
    expect(normal).toBeGreaterThan(2);
    expect(fast / normal).toBeGreaterThanOrEqual(0.35);
    expect(fast / normal).toBeLessThanOrEqual(0.65);
    expect(slow / normal).toBeGreaterThanOrEqual(1.6);
    expect(slow / normal).toBeLessThanOrEqual(2.4);
  });
});

describe("pitch", () => {
  // Long enough for a few hundred voiced frames: the median of a short sentence's few
  // dozen frames moves by several percent with which frames happen to count as voiced.
  const TEXT =
    "A rainbow is a meteorological phenomenon that is caused by reflection, refraction and dispersion of light in water droplets resulting in a spectrum of light appearing in the sky.";
  let base: { samples: Int16Array; track: number[] };
  beforeAll(async () => {
    const { samples } = await synthesize({ ...NO_NOISE }, TEXT);
    base = { samples, track: f0Track(samples, VOICE_RATE) };
    // The estimator sees a male voice's pitch in most of the speech.
    expect(voiced(base.track).length).toBeGreaterThan(200);
    expect(median(voiced(base.track))).toBeGreaterThan(70);
    expect(median(voiced(base.track))).toBeLessThan(160);
  });

  it.each([0.8, 1.25])("%s multiplies the median F0 of the voiced frames by that factor and keeps the duration", async (factor) => {
    const { samples } = await synthesize({ ...NO_NOISE, pitch: factor }, TEXT);
    const track = f0Track(samples, VOICE_RATE);
    expect(voiced(track).length).toBeGreaterThan(150);
    const ratio = median(voiced(track)) / median(voiced(base.track));
    expect(Math.abs(ratio / factor - 1)).toBeLessThanOrEqual(0.05);
    // Frame by frame too (the shift keeps the timing): the median of the ratios of the
    // frames voiced in both is much tighter than a ratio of two medians.
    const ratios = track.map((f0, i) => f0 / base.track[i]!).filter((r) => !Number.isNaN(r));
    expect(ratios.length).toBeGreaterThan(100);
    expect(Math.abs(median(ratios) / factor - 1)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(seconds(samples) / seconds(base.samples) - 1)).toBeLessThanOrEqual(0.05);
  });
});

describe.each([
  { level: "the model's own level", normalization: Normalization.UNSPECIFIED },
  { level: "SENTENCE_PEAK", normalization: Normalization.SENTENCE_PEAK },
])("volume, at $level", ({ normalization }) => {
  it("0.5 halves the peak", async () => {
    const full = peak((await synthesize({ ...NO_NOISE, normalization })).samples);
    const half = peak((await synthesize({ ...NO_NOISE, normalization, volume: 0.5 })).samples);
    // Piper normalizes each sentence to full scale; the model's own level stays below it.
    if (normalization === Normalization.SENTENCE_PEAK) expect(full).toBe(32767);
    else expect(full).toBeLessThan(0.9 * 32767);
    expect(Math.abs(half / full - 0.5)).toBeLessThanOrEqual(0.01); // within 2% of 0.5
  });

  it("4.0 saturates at ±32767 and never wraps around", async () => {
    const quiet = (await synthesize({ ...NO_NOISE, normalization })).samples;
    const { samples } = await synthesize({ ...NO_NOISE, normalization, volume: 4 });
    expect(samples.length).toBe(quiet.length);
    expect(Math.max(...samples)).toBe(32767);
    expect(Math.min(...samples)).toBe(-32767);
    // Clipped, not just loud: samples sit at full scale (a good share of them when each
    // sentence already peaked there; 0.4 % of them at the model's own level, 4-8 dB lower).
    expect(countAtLeast(samples, 32767) / samples.length).toBeGreaterThan(normalization === Normalization.SENTENCE_PEAK ? 0.05 : 0.002);
    // A wrapped sample lands at the far end of the range from its neighbour.
    const NEAR_FULL = 0.9 * 32767;
    const wraps: number[] = [];
    for (let i = 1; i < samples.length; i++) {
      const [a, b] = [samples[i - 1]!, samples[i]!];
      if ((a >= NEAR_FULL && b <= -NEAR_FULL) || (a <= -NEAR_FULL && b >= NEAR_FULL)) wraps.push(i);
    }
    expect(wraps).toEqual([]);
    // Every sample is the unity-volume sample times four, clipped (Piper applies the gain
    // in float before the int16 cast, hence a few units of rounding).
    let worst = 0;
    for (let i = 0; i < samples.length; i++) {
      const expected = Math.max(-32767, Math.min(32767, 4 * quiet[i]!));
      worst = Math.max(worst, Math.abs(samples[i]! - expected));
    }
    expect(worst).toBeLessThanOrEqual(4);
  });
});

describe("sentence_silence", () => {
  const TWO_SENTENCES = "The first sentence ends here. The second one follows it.";

  /** The longest run of samples within ±limit, in seconds. */
  function longestQuiet(samples: Int16Array, limit = 50): number {
    let longest = 0;
    let run = 0;
    for (const sample of samples) {
      run = Math.abs(sample) <= limit ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    return longest / VOICE_RATE;
  }

  it("1.0 between two sentences adds one second of silence", async () => {
    const without = (await synthesize({ ...NO_NOISE, sentenceSilence: 0 }, TWO_SENTENCES)).samples;
    const withSilence = (await synthesize({ ...NO_NOISE, sentenceSilence: 1 }, TWO_SENTENCES)).samples;
    expect(Math.abs(seconds(withSilence) - seconds(without) - 1)).toBeLessThanOrEqual(0.05);
    expect(longestQuiet(withSilence)).toBeGreaterThanOrEqual(1);
    expect(longestQuiet(without)).toBeLessThan(0.5);
  });
});
