import { expect } from "vitest";
// Test signals and independent measurements: decoding goes through ffmpeg/ffprobe,
// pitch through a YIN estimator written here, so nothing is checked with the code
// under test.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A linear chirp from 200 to 1400 Hz: no period, so alignment by correlation is unambiguous. */
export function chirp(sampleRate: number, seconds: number, amplitude = 12000): Int16Array {
  const n = Math.round(sampleRate * seconds);
  const out = new Int16Array(n);
  const sweep = 1200 / seconds / 2;
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    out[i] = Math.round(amplitude * Math.sin(2 * Math.PI * (200 * t + sweep * t * t)));
  }
  return out;
}

export function tone(sampleRate: number, seconds: number, hz: number, amplitude = 12000): Int16Array {
  const n = Math.round(sampleRate * seconds);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / sampleRate));
  return out;
}

/** A 1/h-weighted harmonic series on f0, like a voiced sound. */
export function harmonicTone(sampleRate: number, seconds: number, f0: number, harmonics = 8): Int16Array {
  const n = Math.round(sampleRate * seconds);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    let value = 0;
    for (let h = 1; h <= harmonics; h++) value += Math.sin((2 * Math.PI * f0 * h * i) / sampleRate) / h;
    out[i] = Math.round(6000 * value);
  }
  return out;
}

export function concat(pieces: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(pieces);
}

export function rms(samples: ArrayLike<number>, from = 0, to = samples.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / Math.max(1, to - from));
}

/** Amplitude of the sinusoid at `hz` in the signal (one DFT bin). */
export function magnitudeAt(samples: ArrayLike<number>, sampleRate: number, hz: number): number {
  const w = (2 * Math.PI * hz) / sampleRate;
  let re = 0;
  let im = 0;
  for (let i = 0; i < samples.length; i++) {
    re += samples[i]! * Math.cos(w * i);
    im -= samples[i]! * Math.sin(w * i);
  }
  return (2 * Math.hypot(re, im)) / samples.length; // the amplitude of that sinusoid
}

export interface Probe {
  codec: string;
  sampleRate: number;
  channels: number;
}

/** Headerless samples ffmpeg cannot recognize by themselves: 16-bit PCM, or G.711. */
export type RawFormat = "s16le" | "mulaw" | "alaw";

/** ffprobe's view of the file's first audio stream. rawRate: the file is headerless `rawFormat` at that rate. */
export async function probe(bytes: Uint8Array, rawRate?: number, rawFormat: RawFormat = "s16le"): Promise<Probe> {
  return withFile(bytes, async (path) => {
    const { stdout } = await run("ffprobe", [
      "-v",
      "error",
      ...rawInput(rawRate, rawFormat),
      "-select_streams",
      "a:0",
      "-show_entries",
      "stream=codec_name,sample_rate,channels",
      "-of",
      "json",
      path,
    ]);
    const stream = JSON.parse(stdout).streams[0];
    return { codec: stream.codec_name, sampleRate: Number(stream.sample_rate), channels: stream.channels };
  });
}

/**
 * The file decoded by ffmpeg to mono s16le at its own rate, or at outputRate when given.
 * Throws if ffmpeg reports any error, so a corrupt page or frame fails the test.
 */
export async function decode(
  bytes: Uint8Array,
  options: { rawRate?: number | undefined; rawFormat?: RawFormat; outputRate?: number } = {},
): Promise<Int16Array> {
  return withFile(bytes, async (path) => {
    const { stdout, stderr } = await run(
      "ffmpeg",
      [
        "-v",
        "error",
        ...rawInput(options.rawRate, options.rawFormat ?? "s16le"),
        "-i",
        path,
        ...(options.outputRate ? ["-ar", String(options.outputRate)] : []),
        "-f",
        "s16le",
        "-ac",
        "1",
        "-",
      ],
      { encoding: "buffer", maxBuffer: 1 << 28 },
    );
    if (stderr.length > 0) throw new Error(`ffmpeg reported: ${stderr.toString()}`);
    return new Int16Array(stdout.buffer, stdout.byteOffset, stdout.length / 2);
  });
}

function rawInput(rate: number | undefined, format: RawFormat): string[] {
  return rate ? ["-f", format, "-ar", String(rate), "-ac", "1"] : [];
}

async function withFile<T>(bytes: Uint8Array, use: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "audio-test-"));
  const path = join(dir, "audio");
  try {
    await writeFile(path, bytes);
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The lag (decoded index minus source index) that best aligns decoded with source, within ±maxLag. */
export function bestLag(source: Int16Array, decoded: Int16Array, maxLag: number): number {
  let best = -Infinity;
  let bestLag = 0;
  const from = maxLag;
  const to = Math.min(source.length, decoded.length) - maxLag;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let sum = 0;
    for (let i = from; i < to; i++) sum += source[i]! * decoded[i + lag]!;
    if (sum > best) {
      best = sum;
      bestLag = lag;
    }
  }
  return bestLag;
}

/**
 * The same speech to the last bit a float→int16 cast may round either way: as many samples
 * (Int16Array, or 16-bit little-endian PCM bytes), none more than 1 apart. The model's own level lets a stream decode a small first window,
 * so its windows (and so the rounding of a few samples) differ from a unary call's.
 */
export function expectSameSpeech(actual: Int16Array | Uint8Array, expected: Int16Array | Uint8Array): void {
  const samples = (audio: Int16Array | Uint8Array) => (audio instanceof Int16Array ? audio : new Int16Array(new Uint8Array(audio).buffer)); // s16le bytes
  actual = samples(actual);
  expected = samples(expected);
  expect(actual.length).toBe(expected.length);
  let largest = 0;
  for (let i = 0; i < actual.length; i++) largest = Math.max(largest, Math.abs(actual[i]! - expected[i]!));
  expect(largest).toBeLessThanOrEqual(1);
}

/** Pearson correlation of two equally long signals. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

/**
 * Fundamental frequency by YIN (de Cheveigné and Kawahara 2002): the first dip of the
 * cumulative-mean-normalized difference function below 0.1, refined by parabolic
 * interpolation. Picking the first dip, not the deepest, avoids octave errors.
 */
export function yinF0(samples: Int16Array, sampleRate: number, from: number, windowSamples: number): number {
  const maxLag = Math.floor(sampleRate / 50);
  const minLag = Math.floor(sampleRate / 1000);
  const cmnd = new Float64Array(maxLag + 2);
  let runningSum = 0;
  cmnd[0] = 1;
  for (let lag = 1; lag <= maxLag + 1; lag++) {
    let difference = 0;
    for (let i = from; i < from + windowSamples; i++) {
      const d = samples[i]! - samples[i + lag]!;
      difference += d * d;
    }
    runningSum += difference;
    cmnd[lag] = runningSum === 0 ? 1 : (difference * lag) / runningSum;
  }
  for (let lag = minLag; lag <= maxLag; lag++) {
    if (cmnd[lag]! < 0.1) {
      while (lag < maxLag && cmnd[lag + 1]! < cmnd[lag]!) lag++;
      const [a, b, c] = [cmnd[lag - 1]!, cmnd[lag]!, cmnd[lag + 1]!];
      const shift = (a - c) / (2 * (a - 2 * b + c));
      return sampleRate / (lag + shift);
    }
  }
  return Number.NaN;
}
