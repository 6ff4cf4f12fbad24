// Synthesize end to end, every encoding and every output rate: the audio is decoded by
// ffmpeg (an independent decoder) and checked against the response's metadata and
// against the same speech in WAV at the voice's own rate.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, type SynthesizeResponse } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { bestLag, correlation, rms } from "../audio/support.js";
import { startServer, type RunningServer } from "../server/running-server.js";
import { decode, ENCODINGS, NO_NOISE, probe, ttsClient, VOICE, VOICE_RATE, type TransportName } from "./support.js";

const TEXT = "The quick brown fox jumps over the lazy dog. It was a bright cold day in April.";
const LOSSLESS = new Set<AudioEncoding>([AudioEncoding.WAV, AudioEncoding.PCM, AudioEncoding.FLAC]);

let running: RunningServer;
/** The deterministic speech in WAV at 22050 Hz, and its samples. */
let reference: SynthesizeResponse;
let referenceSamples: Int16Array;

beforeAll(async () => {
  running = await startServer();
  reference = await ttsClient(running).synthesize({ text: TEXT, config: { ...NO_NOISE, encoding: AudioEncoding.WAV } });
  referenceSamples = await decode(reference.audio);
});
afterAll(() => running.app.close());

/** Synthesizes TEXT deterministically, over gRPC or Connect. */
function synthesize(encoding: AudioEncoding, sampleRate = 0, via: TransportName = "gRPC"): Promise<SynthesizeResponse> {
  return ttsClient(running, via).synthesize({ text: TEXT, config: { ...NO_NOISE, encoding, sampleRate, useCache: false } });
}

/** The response decoded by ffmpeg, after checking ffprobe's codec, rate and channel count. */
async function decodeChecked(response: SynthesizeResponse, codec: string, rate: number): Promise<Int16Array> {
  const rawRate = response.encoding === AudioEncoding.PCM ? rate : undefined;
  expect(await probe(response.audio, rawRate)).toEqual({ codec, sampleRate: rate, channels: 1 });
  return decode(response.audio, { rawRate });
}

/** How well `response` (decoded at `rate`) matches the reference speech resampled to `rate` by ffmpeg. */
async function matchReference(response: SynthesizeResponse, rate: number): Promise<{ lag: number; correlation: number }> {
  const rawRate = response.encoding === AudioEncoding.PCM ? rate : undefined;
  const expected = await decode(reference.audio, { outputRate: rate });
  const actual = await decode(response.audio, { rawRate, outputRate: rate });
  const lag = bestLag(expected, actual, Math.round(rate / 100));
  const from = Math.max(lag, 0);
  const aligned = actual.subarray(from, from + Math.min(expected.length, actual.length) - Math.abs(lag));
  const source = expected.subarray(Math.max(-lag, 0), Math.max(-lag, 0) + aligned.length);
  return { lag, correlation: correlation(source, aligned) };
}

describe("the reference", () => {
  it("is two sentences of real speech at the voice's rate", () => {
    expect(reference).toMatchObject({
      encoding: AudioEncoding.WAV,
      sampleRate: VOICE_RATE,
      textLength: TEXT.length,
      modelUsed: `piper:${VOICE}`,
    });
    expect(reference.durationSeconds).toBeGreaterThan(3);
    expect(referenceSamples.length).toBe(Math.round(reference.durationSeconds * VOICE_RATE));
    expect(rms(referenceSamples)).toBeGreaterThan(1000);
  });
});

describe.each(ENCODINGS)("Synthesize $name at the voice's rate", ({ value, codec }) => {
  // Opus decoders always output 48 kHz, and the response says so.
  const rate = value === AudioEncoding.OGG_OPUS ? 48000 : VOICE_RATE;

  it.each(["gRPC", "Connect"] as const)("over %s: ffmpeg decodes mono audio of the reported rate and duration", async (via) => {
    const response = await synthesize(value, 0, via);
    expect(response).toMatchObject({
      encoding: value,
      sampleRate: rate,
      cached: false,
      textLength: TEXT.length,
      modelUsed: `piper:${VOICE}`,
    });
    const decoded = await decodeChecked(response, codec, rate);
    expect(Math.abs(decoded.length / rate - response.durationSeconds)).toBeLessThanOrEqual(0.02);
    if (value !== AudioEncoding.OGG_OPUS) {
      // Lossless files hold exactly the samples; a whole MP3 file's Info frame makes
      // ffmpeg trim the encoder delay and padding, so it is sample exact too.
      expect(decoded.length).toBe(Math.round(response.durationSeconds * rate));
    }
    // Same speech as the reference: to the sample when lossless.
    expect(response.durationSeconds).toBeCloseTo(reference.durationSeconds, 3);
    if (LOSSLESS.has(value)) {
      expect(
        Buffer.from(decoded.buffer, decoded.byteOffset, decoded.byteLength).equals(
          Buffer.from(referenceSamples.buffer, referenceSamples.byteOffset, referenceSamples.byteLength),
        ),
      ).toBe(true);
    } else {
      const match = await matchReference(response, VOICE_RATE);
      expect(Math.abs(match.lag)).toBeLessThanOrEqual(1);
      expect(match.correlation).toBeGreaterThan(0.98);
    }
  });
});

describe("output sample rates", () => {
  const cases = [
    ...[8000, 16000, 22050, 24000, 44100, 48000].map((rate) => ({ ...ENCODINGS[0], rate })),
    ...[8000, 44100].flatMap((rate) => [
      { ...ENCODINGS[2], rate },
      { ...ENCODINGS[4], rate },
    ]),
  ];

  it.each(cases)("$name at $rate Hz: decodes at that rate with the same speech and duration", async ({ rate, ...encoding }) => {
    const response = await synthesize(encoding.value, rate);
    expect(response).toMatchObject({ encoding: encoding.value, sampleRate: rate });
    const decoded = await decodeChecked(response, encoding.codec, rate);
    expect(Math.abs(decoded.length / rate - response.durationSeconds)).toBeLessThanOrEqual(0.02);
    expect(decoded.length).toBe(Math.round(response.durationSeconds * rate));
    // Resampling keeps the length: at most a sample of the output rate apart.
    expect(Math.abs(response.durationSeconds - reference.durationSeconds)).toBeLessThanOrEqual(1 / rate);
    const match = await matchReference(response, rate);
    expect(Math.abs(match.lag)).toBeLessThanOrEqual(1);
    expect(match.correlation).toBeGreaterThan(encoding.value === AudioEncoding.MP3 ? 0.98 : 0.999);
  });

  it.each([8000, 16000, 22050, 48000])(
    "OGG_OPUS asked for %i Hz reports and decodes at 48000 Hz, the Opus decoder's rate",
    async (rate) => {
      const response = await synthesize(AudioEncoding.OGG_OPUS, rate);
      expect(response).toMatchObject({ encoding: AudioEncoding.OGG_OPUS, sampleRate: 48000 });
      const decoded = await decodeChecked(response, "opus", 48000);
      expect(Math.abs(decoded.length / 48000 - response.durationSeconds)).toBeLessThanOrEqual(0.02);
      expect(Math.abs(response.durationSeconds - reference.durationSeconds)).toBeLessThanOrEqual(0.001);
      // OpusHead keeps the rate that was asked for, as the input rate.
      const head = Buffer.from(response.audio).indexOf("OpusHead");
      expect(new DataView(response.audio.buffer, response.audio.byteOffset).getUint32(head + 12, true)).toBe(rate);
      const match = await matchReference(response, Math.min(rate, VOICE_RATE));
      expect(Math.abs(match.lag)).toBeLessThanOrEqual(1);
      expect(match.correlation).toBeGreaterThan(0.98);
    },
  );
});

describe("G.711 for telephony", () => {
  const cases = [
    { name: "MULAW", value: AudioEncoding.MULAW, codec: "pcm_mulaw", raw: "mulaw" },
    { name: "ALAW", value: AudioEncoding.ALAW, codec: "pcm_alaw", raw: "alaw" },
    { name: "WAV_MULAW", value: AudioEncoding.WAV_MULAW, codec: "pcm_mulaw", raw: undefined },
    { name: "WAV_ALAW", value: AudioEncoding.WAV_ALAW, codec: "pcm_alaw", raw: undefined },
  ] as const;

  it.each(cases)("$name at 8000 Hz is the 8 kHz PCM speech within G.711's quantization step", async ({ value, codec, raw }) => {
    const [pcm, response] = await Promise.all([synthesize(AudioEncoding.PCM, 8000), synthesize(value, 8000)]);
    expect(response).toMatchObject({ encoding: value, sampleRate: 8000 });
    const rawRate = raw === undefined ? undefined : 8000;
    expect(await probe(response.audio, rawRate, raw)).toEqual({ codec, sampleRate: 8000, channels: 1 });
    const decoded = await decode(response.audio, { rawRate, ...(raw && { rawFormat: raw }) });
    const expected = await decode(pcm.audio, { rawRate: 8000 });
    // One byte a sample: half the size of 16-bit PCM, plus WAV's 58-byte header.
    expect(response.audio.length).toBe(pcm.audio.length / 2 + (raw === undefined ? 58 : 0));
    expect(decoded.length).toBe(expected.length);
    const outside = Array.from(expected).filter((x, i) => Math.abs(decoded[i]! - x) > Math.abs(x) / 32 + 33);
    expect(outside).toEqual([]);
    expect(response.durationSeconds).toBeCloseTo(pcm.durationSeconds, 6);
  });
});
