// frame_ms: streams of bare samples (PCM, G.711) sent in whole frames, as telephone media
// streams carry them (20 ms of µ-law at 8 kHz is 160 bytes). Against the real server: every
// chunk holds whole frames, the audio is the unary audio plus silence filling the last frame,
// each chunk says the sample it starts at, and framing a header or a codec is refused.

import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, Normalization } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { callError, startServer, type RunningServer } from "../server/running-server.js";
import { collectStream, type Config, decode, NO_NOISE, ttsClient } from "./support.js";

const TEXT = "Thanks for calling. Your appointment is confirmed for Tuesday at nine.";

let running: RunningServer;

beforeAll(async () => {
  running = await startServer({ STREAM_CHUNK_SIZE: "1024" });
}, 120_000);

afterAll(async () => {
  await running?.app.close();
});

describe.each([
  { name: "MULAW at 8000 Hz", encoding: AudioEncoding.MULAW, sampleRate: 8000, frameBytes: 160, silence: 0xff },
  { name: "ALAW at 8000 Hz", encoding: AudioEncoding.ALAW, sampleRate: 8000, frameBytes: 160, silence: 0xd5 },
  { name: "PCM at 22050 Hz", encoding: AudioEncoding.PCM, sampleRate: 22050, frameBytes: 882, silence: 0 },
])("SynthesizeStream, $name, frame_ms 20", ({ encoding, sampleRate, frameBytes, silence }) => {
  // Peak-normalized, a stream decodes the windows the unary call does, so their bytes can be
  // compared exactly; framing does not depend on the level.
  const config: Config = { encoding, sampleRate, frameMs: 20, normalization: Normalization.SENTENCE_PEAK, ...NO_NOISE };

  it("sends whole 20 ms frames: the unary audio, then silence to the end of the last frame", async () => {
    const stream = await collectStream(ttsClient(running).synthesizeStream({ text: TEXT, config }));
    // 1024-byte chunks hold as many whole frames as fit.
    for (const chunk of stream.chunks) expect(chunk.audio.length % frameBytes).toBe(0);
    expect(Math.max(...stream.chunks.map((c) => c.audio.length))).toBe(Math.max(frameBytes, 1024 - (1024 % frameBytes)));
    const unary = (await ttsClient(running).synthesize({ text: TEXT, config: { ...config, frameMs: 0 } })).audio;
    expect(Buffer.from(stream.audio.subarray(0, unary.length)).equals(Buffer.from(unary))).toBe(true);
    const padding = stream.audio.subarray(unary.length);
    expect(padding.length).toBeLessThan(frameBytes);
    expect(padding.every((byte) => byte === silence)).toBe(true);
    const width = encoding === AudioEncoding.PCM ? 2 : 1;
    let sent = 0;
    for (const chunk of stream.chunks) {
      expect(Number(chunk.sampleOffset)).toBe(sent / width);
      sent += chunk.audio.length;
    }
  });
});

it("ffmpeg reads a framed µ-law stream as the same audio as the unary µ-law file", async () => {
  const config: Config = {
    encoding: AudioEncoding.MULAW,
    sampleRate: 8000,
    frameMs: 20,
    normalization: Normalization.SENTENCE_PEAK,
    ...NO_NOISE,
  };
  const stream = await collectStream(ttsClient(running).synthesizeStream({ text: TEXT, config }));
  const asMulaw = { rawRate: 8000, rawFormat: "mulaw" } as const;
  const framed = await decode(stream.audio, asMulaw);
  const unary = await decode((await ttsClient(running).synthesize({ text: TEXT, config })).audio, asMulaw);
  expect(Array.from(framed.subarray(0, unary.length))).toEqual(Array.from(unary));
  expect(framed.length - unary.length).toBeLessThan(160);
});

describe("frame_ms refusals name the rule", () => {
  const refusal = (config: Config) => callError(ttsClient(running).synthesize({ text: TEXT, config }));

  it("a header or a codec cannot be framed", async () => {
    const error = await refusal({ encoding: AudioEncoding.WAV, frameMs: 20 });
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe(
      "config.frame_ms: framing applies to AUDIO_ENCODING_PCM, AUDIO_ENCODING_MULAW, AUDIO_ENCODING_ALAW, not AUDIO_ENCODING_WAV; leave it 0 for other encodings",
    );
  });

  it("a frame must be whole samples at the output rate", async () => {
    const error = await refusal({ encoding: AudioEncoding.PCM, frameMs: 30 });
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe(
      "config.frame_ms: 30 ms is not a whole number of samples at 22050 Hz; choose a multiple of 20 ms or another sample_rate",
    );
  });

  it("at most a second", async () => {
    const error = await refusal({ encoding: AudioEncoding.MULAW, sampleRate: 8000, frameMs: 1001 });
    expect(error.rawMessage).toBe("config.frame_ms: 1001 is out of range; allowed 0 or 1 to 1000");
  });
});
