import { describe, expect, it } from "vitest";
import { AudioEncoding } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { contentTypeOf, createEncoder, encodingName, encodingNamed, type OutputEncoding } from "../../src/audio/index.js";
import { bestLag, chirp, concat, correlation, decode, probe, type RawFormat } from "./support.js";

const { WAV, PCM, MP3, OGG_OPUS, FLAC, MULAW, ALAW, WAV_MULAW, WAV_ALAW } = AudioEncoding;
const ENCODINGS: OutputEncoding[] = [WAV, PCM, MP3, OGG_OPUS, FLAC, MULAW, ALAW, WAV_MULAW, WAV_ALAW];
const CODEC_NAME: Record<OutputEncoding, string> = {
  [WAV]: "pcm_s16le",
  [PCM]: "pcm_s16le",
  [MP3]: "mp3",
  [OGG_OPUS]: "opus",
  [FLAC]: "flac",
  [MULAW]: "pcm_mulaw",
  [ALAW]: "pcm_alaw",
  [WAV_MULAW]: "pcm_mulaw",
  [WAV_ALAW]: "pcm_alaw",
};
// Headerless encodings, as ffmpeg must be told to read them.
const RAW: Partial<Record<OutputEncoding, RawFormat>> = { [PCM]: "s16le", [MULAW]: "mulaw", [ALAW]: "alaw" };
const LOSSLESS = new Set<OutputEncoding>([WAV, PCM, FLAC]);
// G.711 keeps every sample within its quantization step: at most |x|/32 + 33 (µ-law's bias; A-law's is smaller).
const G711 = new Set<OutputEncoding>([MULAW, ALAW, WAV_MULAW, WAV_ALAW]);
// LAME's encoder delay (576) plus the MP3 decoder's delay (529): a streamed MP3 has no
// Info frame to tell decoders to trim them.
const MP3_STREAM_LEAD = 1105;

/** Feeds the encoder uneven pieces, an empty one included, and returns every piece it gave back. */
function encodeInPieces(
  encoder: { write(s: Int16Array): Uint8Array; end(): Uint8Array },
  source: Int16Array,
  sampleRate: number,
): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  const sizes = [Math.round(sampleRate * 0.5), 1234, 0, 1, 7000, 333];
  for (let offset = 0, k = 0; offset < source.length; k++) {
    const size = Math.min(sizes[k % sizes.length]!, source.length - offset);
    pieces.push(encoder.write(source.subarray(offset, offset + size)));
    offset += size;
  }
  pieces.push(encoder.end());
  return pieces;
}

describe.each(ENCODINGS)("%s encoder", (encoding) => {
  describe.each([
    { streaming: true, sampleRate: 22050 },
    { streaming: false, sampleRate: 22050 },
    { streaming: true, sampleRate: 8000 },
    { streaming: false, sampleRate: 48000 },
  ])("streaming: $streaming, $sampleRate Hz", ({ streaming, sampleRate }) => {
    it("concatenated pieces decode as one file with the right rate, channels, duration and alignment", async () => {
      const source = chirp(sampleRate, 1.3);
      const encoder = await createEncoder(encoding, sampleRate, { streaming });
      const file = concat(encodeInPieces(encoder, source, sampleRate));
      const rawFormat = RAW[encoding];
      const rawRate = rawFormat === undefined ? undefined : sampleRate;

      const info = await probe(file, rawRate, rawFormat);
      expect(info.codec).toBe(CODEC_NAME[encoding]);
      expect(info.channels).toBe(1);
      expect(info.sampleRate).toBe(encoder.sampleRate);
      expect(encoder.sampleRate).toBe(encoding === OGG_OPUS ? 48000 : sampleRate);

      const decoded = await decode(file, { rawRate, ...(rawFormat && { rawFormat }) });
      const seconds = decoded.length / encoder.sampleRate;
      const sourceSeconds = source.length / sampleRate;
      const atSourceRate = await decode(file, { rawRate, ...(rawFormat && { rawFormat }), outputRate: sampleRate });
      let lag: number;
      if (encoding === MP3 && streaming) {
        const lead = MP3_STREAM_LEAD / sampleRate;
        const twoFrames = (2 * (sampleRate >= 32000 ? 1152 : 576)) / sampleRate;
        expect(seconds - sourceSeconds).toBeGreaterThanOrEqual(lead);
        expect(seconds - sourceSeconds).toBeLessThanOrEqual(lead + twoFrames);
        lag = bestLag(source, atSourceRate, MP3_STREAM_LEAD + 20);
        expect(lag).toBe(MP3_STREAM_LEAD);
      } else {
        expect(Math.abs(seconds - sourceSeconds)).toBeLessThanOrEqual(0.02);
        // Lossy decoders may land a fraction of a sample off (ffmpeg's Opus decoder at 8 kHz).
        lag = bestLag(source, atSourceRate, 400);
        expect(Math.abs(lag)).toBeLessThanOrEqual(LOSSLESS.has(encoding) || G711.has(encoding) ? 0 : 1);
      }

      const aligned = atSourceRate.subarray(Math.max(lag, 0), Math.max(lag, 0) + source.length - Math.abs(lag));
      const sourcePart = source.subarray(Math.max(-lag, 0), Math.max(-lag, 0) + aligned.length);
      if (LOSSLESS.has(encoding)) expect(Array.from(aligned)).toEqual(Array.from(source));
      else if (G711.has(encoding)) {
        const outside = Array.from(source).filter((x, i) => Math.abs(aligned[i]! - x) > Math.abs(x) / 32 + 33);
        expect(aligned.length).toBe(source.length);
        expect(outside).toEqual([]);
      } else expect(correlation(sourcePart, aligned)).toBeGreaterThan(0.95);
    });
  });

  it("returns bytes a player can start on from the first write of a stream", async () => {
    const source = chirp(22050, 1.3);
    const encoder = await createEncoder(encoding, 22050, { streaming: true });
    const first = encoder.write(source.subarray(0, 11025));
    const rawFormat = RAW[encoding];
    const decoded = await decode(first, { rawRate: rawFormat === undefined ? undefined : 22050, ...(rawFormat && { rawFormat }) });
    // Codecs hold back at most a frame or two (LAME also its 1105-sample delay).
    expect(decoded.length / encoder.sampleRate).toBeGreaterThan(0.35);
  });

  it("makes a valid file from no samples at all", async () => {
    for (const streaming of [true, false]) {
      const encoder = await createEncoder(encoding, 22050, { streaming });
      const file = encoder.end();
      if (RAW[encoding] !== undefined) {
        expect(file.length).toBe(0);
        continue;
      }
      const decoded = await decode(file);
      expect(decoded.length / encoder.sampleRate).toBeLessThan(0.06); // an MP3 decoder may give one frame
    }
  });

  it("refuses to be used after end()", async () => {
    const encoder = await createEncoder(encoding, 22050, { streaming: true });
    encoder.end();
    expect(() => encoder.write(new Int16Array(10))).toThrow(/after end/);
    expect(() => encoder.end()).toThrow(/after end/);
  });
});

describe("encoder headers", () => {
  it("WAV: unknown sizes when streaming, exact sizes for a whole file", async () => {
    const samples = chirp(16000, 0.25);
    const stream = await createEncoder(WAV, 16000, { streaming: true });
    const streamed = concat([stream.write(samples), stream.end()]);
    const whole = await createEncoder(WAV, 16000, { streaming: false });
    const file = concat([whole.write(samples), whole.end()]);
    const u32 = (bytes: Uint8Array, at: number) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);
    expect([u32(streamed, 4), u32(streamed, 40)]).toEqual([0xffffffff, 0xffffffff]);
    expect([u32(file, 4), u32(file, 40)]).toEqual([36 + 2 * samples.length, 2 * samples.length]);
    expect(u32(file, 24)).toBe(16000);
    expect(file.length).toBe(44 + 2 * samples.length);
  });

  it("Ogg Opus: 48 kHz output, the requested rate in OpusHead, one BOS and one EOS page", async () => {
    const encoder = await createEncoder(OGG_OPUS, 22050, { streaming: true });
    const file = concat(encodeInPieces(encoder, chirp(22050, 1), 22050));
    const head = Buffer.from(file).indexOf("OpusHead");
    const view = new DataView(file.buffer, file.byteOffset);
    expect(view.getUint16(head + 10, true)).toBeGreaterThan(0); // pre-skip
    expect(view.getUint32(head + 12, true)).toBe(22050);
    const headerTypes: number[] = [];
    for (let at = Buffer.from(file).indexOf("OggS"); at >= 0; at = Buffer.from(file).indexOf("OggS", at + 4))
      headerTypes.push(file[at + 5]!);
    expect(headerTypes.filter((t) => t & 2)).toHaveLength(1);
    expect(headerTypes.filter((t) => t & 4)).toHaveLength(1);
    expect(headerTypes.at(-1)! & 4).toBe(4);
    expect(headerTypes.length).toBeGreaterThan(4); // a page per write, not one at the end
  });

  it("FLAC: a whole file's STREAMINFO has the sample count, a stream's leaves it unknown", async () => {
    const samples = chirp(22050, 0.7);
    const totalSamples = async (streaming: boolean) => {
      const encoder = await createEncoder(FLAC, 22050, { streaming });
      const file = concat([encoder.write(samples), encoder.end()]);
      const view = new DataView(file.buffer, file.byteOffset);
      return (view.getUint8(8 + 13) & 0x0f) * 2 ** 32 + view.getUint32(8 + 14);
    };
    expect(await totalSamples(false)).toBe(samples.length);
    expect(await totalSamples(true)).toBe(0);
  });

  it("names every encoding and its content type from AudioEncoding, and finds it by any of its names", () => {
    expect(ENCODINGS.map(encodingName)).toEqual(["wav", "pcm", "mp3", "ogg_opus", "flac", "mulaw", "alaw", "wav_mulaw", "wav_alaw"]);
    const names = ["WAV", "pcm", "AUDIO_ENCODING_MP3", "ogg", "opus", "ogg_opus", "flac", "mulaw", "ulaw", "alaw", "wav_alaw"];
    expect(names.map(encodingNamed)).toEqual([WAV, PCM, MP3, OGG_OPUS, OGG_OPUS, OGG_OPUS, FLAC, MULAW, MULAW, ALAW, WAV_ALAW]);
    expect(encodingNamed("aac")).toBeUndefined();
    expect(ENCODINGS.map((e) => contentTypeOf(e, 8000))).toEqual([
      "audio/wav",
      "audio/pcm;rate=8000;channels=1;format=s16le",
      "audio/mpeg",
      "audio/ogg; codecs=opus",
      "audio/flac",
      "audio/PCMU;rate=8000",
      "audio/PCMA;rate=8000",
      "audio/wav",
      "audio/wav",
    ]);
  });

  it("rejects a sample rate the codec cannot carry", async () => {
    await expect(createEncoder(MP3, 11000, { streaming: true })).rejects.toThrow(RangeError);
    await expect(createEncoder(WAV, 0, { streaming: true })).rejects.toThrow(RangeError);
  });
});
