// SynthesizeStream and the cache, against the real service: a completed stream fills
// the cache, a cached stream is replayed, a cancelled one stores nothing, and unary
// calls and streams share entries.

import { describe, expect, it } from "vitest";
import { AudioEncoding, Normalization } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { bytes, bytesPerSentence, cacheStats, cachedServerPerSuite, collectStream, settledStats, waitForLog, wavSizes } from "./support.js";

const running = cachedServerPerSuite();

const ENCODINGS = [
  { name: "WAV", value: AudioEncoding.WAV },
  { name: "PCM", value: AudioEncoding.PCM },
  { name: "MP3", value: AudioEncoding.MP3 },
  { name: "OGG_OPUS", value: AudioEncoding.OGG_OPUS },
  { name: "FLAC", value: AudioEncoding.FLAC },
];

const sequences = (stream: { chunks: { sequence: number }[] }) => stream.chunks.map((chunk) => chunk.sequence);

describe("a completed stream", () => {
  it("fills the cache: the same stream again is replayed from it, chunk by chunk, sentence by sentence", async () => {
    const text = "A stream sends each sentence as soon as it is ready. This is the second one. And a third.";
    const first = await collectStream(running().grpc.synthesizeStream({ text }));
    expect(first.summary?.cached).toBe(false);
    expect(first.summary?.sentenceCount).toBe(3);

    const replay = await collectStream(running().grpc.synthesizeStream({ text }));
    expect(replay.summary?.cached).toBe(true);
    expect(replay.start).toEqual(first.start);
    // The same file, except that the replay's WAV header knows the sizes the first
    // stream's could not (Piper's noise makes two syntheses differ: same samples = cached).
    expect(replay.audio.length).toBe(first.audio.length);
    expect(replay.audio.subarray(44).equals(first.audio.subarray(44))).toBe(true);
    expect(wavSizes(first.audio)).toEqual({ riff: 0xffffffff, data: 0xffffffff });
    expect(wavSizes(replay.audio)).toEqual({ riff: replay.audio.length - 8, data: replay.audio.length - 44 });
    expect(replay.chunks.length).toBeGreaterThan(1);
    expect(sequences(replay)).toEqual(replay.chunks.map((_, index) => index));
    // The same bytes are attributed to the same sentences as in the first stream.
    expect(bytesPerSentence(replay.chunks)).toEqual(bytesPerSentence(first.chunks));
    expect(replay.summary).toMatchObject({
      cached: true,
      sentenceCount: 3,
      durationSeconds: first.summary!.durationSeconds,
      chunkCount: replay.chunks.length,
      audioBytes: BigInt(replay.audio.length),
    });
  });

  it("fills the cache for unary calls too, with the same file a unary call would return", async () => {
    const text = "Streamed first, then asked for as one file.";
    const streamed = await collectStream(running().grpc.synthesizeStream({ text }));
    expect(streamed.summary?.cached).toBe(false);

    const unary = await running().grpc.synthesize({ text });
    expect(unary.cached).toBe(true);
    expect(unary.durationSeconds).toBe(streamed.summary!.durationSeconds);
    expect(unary.sampleRate).toBe(streamed.start!.sampleRate);
    // The same samples as the stream sent...
    expect(bytes(unary.audio).subarray(44).equals(streamed.audio.subarray(44))).toBe(true);
    // ...in a whole file whose header carries the exact sizes, as an uncached unary
    // answer does (a stream's header has to say "unknown length").
    expect(wavSizes(unary.audio)).toEqual({ riff: unary.audio.length - 8, data: unary.audio.length - 44 });
  });
});

describe.each(ENCODINGS)("a stream in $name", ({ value: encoding, name }) => {
  it("leaves the unary call after it the very file a unary synthesis returns", async () => {
    // Without noise, synthesis is deterministic: a fresh unary answer is the reference. Peak-
    // normalized, the stream decodes the windows a unary call does, so the files can be
    // compared byte for byte (at the model's own level a stream's small first window may
    // round a sample the other way).
    const text = `Streamed in ${name}. Then asked for as one file.`;
    const config = { encoding, noiseScale: 0, noiseW: 0, normalization: Normalization.SENTENCE_PEAK };
    const streamed = await collectStream(running().grpc.synthesizeStream({ text, config }));
    expect(streamed.summary?.cached).toBe(false);
    const hit = await running().grpc.synthesize({ text, config });
    const fresh = await running().grpc.synthesize({ text, config: { ...config, useCache: false } });
    expect([hit.cached, fresh.cached]).toEqual([true, false]);
    expect({ ...hit, audio: undefined, cached: undefined, generationTimeMs: undefined }).toEqual({
      ...fresh,
      audio: undefined,
      cached: undefined,
      generationTimeMs: undefined,
    });
    if (name === "OGG_OPUS") {
      // Each Ogg stream has a random serial number; the Opus packets are the same.
      expect(hit.audio.length).toBe(fresh.audio.length);
    } else {
      expect(bytes(hit.audio).equals(bytes(fresh.audio))).toBe(true);
    }
    // And a stream replayed from that entry attributes the audio to its sentences as the
    // first stream did, where the whole file shares the stream's bytes.
    const replay = await collectStream(running().grpc.synthesizeStream({ text, config }));
    expect(replay.summary?.cached).toBe(true);
    expect(replay.audio.equals(bytes(hit.audio))).toBe(true);
    if (name !== "OGG_OPUS") expect(bytesPerSentence(replay.chunks).map(([sentence]) => sentence)).toEqual([0, 1]);
  });
});

describe("a unary call", () => {
  it("fills the cache for streams: the stream replays the unary file and says cached", async () => {
    const text = "Asked for as one file first. Then streamed.";
    const unary = await running().connect.synthesize({ text });
    expect(unary.cached).toBe(false);

    const replay = await collectStream(running().connect.synthesizeStream({ text }));
    expect(replay.summary).toMatchObject({ cached: true, sentenceCount: 2, durationSeconds: unary.durationSeconds });
    expect(replay.audio.equals(bytes(unary.audio))).toBe(true);
    expect(sequences(replay)).toEqual(replay.chunks.map((_, index) => index));
  });
});

describe("a stream with use_cache=false", () => {
  it("neither reads nor writes the cache", async () => {
    const text = "This stream does not use the cache.";
    const cached = await running().grpc.synthesize({ text });
    expect(cached.cached).toBe(false);
    const before = await settledStats(running().grpc);
    const uncached = await collectStream(running().grpc.synthesizeStream({ text, config: { useCache: false } }));
    expect(uncached.summary?.cached).toBe(false);
    expect(uncached.audio.subarray(44).equals(bytes(cached.audio).subarray(44))).toBe(false); // synthesized anew
    const after = await cacheStats(running().grpc);
    expect(after.total).toEqual(before.total);

    const other = "Nor does this one store anything.";
    await collectStream(running().grpc.synthesizeStream({ text: other, config: { useCache: false } }));
    const stats = await cacheStats(running().grpc);
    expect([stats.memory.entries, stats.total.misses]).toEqual([before.memory.entries, before.total.misses]);
    expect((await collectStream(running().grpc.synthesizeStream({ text: other }))).summary?.cached).toBe(false);
  });
});

describe("a cancelled stream", () => {
  it("stores nothing once cancelled after its first chunk: the next call is a miss", async () => {
    const text =
      "This stream is cancelled after its first chunk. The second sentence is never finished. " +
      "Nor is the third. Nothing of it may reach the cache.";
    const before = await settledStats(running().grpc); // earlier tests' disk stores have landed
    const since = running().logLines.length;
    const controller = new AbortController();
    let chunks = 0;
    await expect(
      (async () => {
        for await (const message of running().grpc.synthesizeStream({ text }, { signal: controller.signal })) {
          if (message.event.case === "chunk" && ++chunks === 1) controller.abort();
        }
      })(),
    ).rejects.toThrow();
    expect(chunks).toBe(1);
    // The server has stopped the synthesis (the render loop's finally has run).
    const stopped = await waitForLog(running(), since, (line) => line.msg === "synthesis stopped early", "synthesis stopped early");
    expect(stopped.sentences_done as number).toBeLessThan(stopped.sentences_total as number);
    await waitForLog(running(), since, (line) => line.method === "aetheros.tts.v1.TtsService/SynthesizeStream", "the stream's rpc line");

    const after = await cacheStats(running().grpc);
    expect([after.memory.entries, after.disk.entries]).toEqual([before.memory.entries, before.disk.entries]);
    const next = await running().grpc.synthesize({ text });
    expect(next.cached).toBe(false);
  });
});
