// Unary Synthesize through the cache, against the real service: hits and misses, what
// the key folds together and what it keeps apart, use_cache, and single flight.

import { describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { AudioEncoding, type SynthesisConfigSchema } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { bytes, cacheStats, cachedServerPerSuite, settledStats, waitForEntries, waitUntil, wavSizes } from "./support.js";

type ConfigInit = MessageInitShape<typeof SynthesisConfigSchema>;

describe("a shared server (each test speaks its own phrases)", () => {
  const running = cachedServerPerSuite();

  it("synthesizes the first call and serves the identical second one from the cache, much faster", async () => {
    const text = "The first call is synthesized, the second one is not.";
    const first = await running().grpc.synthesize({ text });
    const second = await running().grpc.synthesize({ text });
    expect(first.cached).toBe(false);
    expect(second.cached).toBe(true);
    // Piper's noise makes two syntheses differ: identical bytes are the cached file.
    expect(bytes(second.audio).equals(bytes(first.audio))).toBe(true);
    expect(second).toMatchObject({
      encoding: first.encoding,
      sampleRate: first.sampleRate,
      durationSeconds: first.durationSeconds,
      modelUsed: first.modelUsed,
      textLength: first.textLength,
    });
    expect(wavSizes(second.audio)).toEqual({ riff: second.audio.length - 8, data: second.audio.length - 44 });
    // A ratio of two calls on the same machine in the same test, not a time limit.
    expect(second.generationTimeMs).toBeLessThan(first.generationTimeMs / 10);
  });

  it("folds whitespace and Unicode normalization: variants of the text hit the same entry", async () => {
    const composed = "The caf\u00e9 opens at nine, na\u00efve visitors queue early.";
    const first = await running().grpc.synthesize({ text: composed });
    expect(first.cached).toBe(false);
    const variants = [
      "The cafe\u0301 opens at nine, nai\u0308ve visitors queue early.", // NFD
      `   ${composed}   `,
      "The  caf\u00e9\topens at\nnine,   na\u00efve visitors\r\n queue early.",
      " The cafe\u0301  opens at nine,\u00a0na\u00efve visitors queue early.\n",
    ];
    for (const text of variants) {
      const response = await running().grpc.synthesize({ text });
      expect({ text, cached: response.cached }).toEqual({ text, cached: true });
      expect(bytes(response.audio).equals(bytes(first.audio))).toBe(true);
    }
    // Different words are a different entry.
    expect((await running().grpc.synthesize({ text: composed.replace("nine", "ten") })).cached).toBe(false);
  });

  it("misses on any change of speed, pitch, volume, noise, silence, encoding or sample rate", async () => {
    const text = "Every setting is part of the key. So is this second sentence.";
    const first = await running().grpc.synthesize({ text });
    expect(first.cached).toBe(false);
    const changes: [string, ConfigInit][] = [
      ["speed", { speed: 1.25 }],
      ["pitch", { pitch: 1.2 }],
      ["volume", { volume: 0.5 }],
      ["noise_scale", { noiseScale: 0.3 }],
      ["noise_w", { noiseW: 0.3 }],
      ["sentence_silence", { sentenceSilence: 0.4 }],
      ["encoding", { encoding: AudioEncoding.FLAC }],
      ["sample_rate", { sampleRate: 16000 }],
    ];
    for (const [name, config] of changes) {
      const response = await running().grpc.synthesize({ text, config });
      expect({ name, cached: response.cached }).toEqual({ name, cached: false });
      expect(bytes(response.audio).equals(bytes(first.audio))).toBe(false);
    }
    // Each changed request was stored under its own key...
    for (const [name, config] of changes) {
      expect({ name, cached: (await running().grpc.synthesize({ text, config })).cached }).toEqual({ name, cached: true });
    }
    // ...and none of them replaced the original entry.
    const again = await running().grpc.synthesize({ text });
    expect(again.cached).toBe(true);
    expect(bytes(again.audio).equals(bytes(first.audio))).toBe(true);
  });

  it("treats every setting given at its default value as the same request as leaving it unset", async () => {
    const text = "Defaults spelled out are still the defaults.";
    const first = await running().grpc.synthesize({ text });
    expect(first.cached).toBe(false);
    // The voice's own noise settings (en_US-joe-medium.onnx.json: 0.667 and 0.8).
    const explicit: ConfigInit = {
      voice: "en_US-joe-medium",
      language: "en-US",
      speaker: "",
      encoding: AudioEncoding.WAV,
      sampleRate: 22050,
      speed: 1,
      pitch: 1,
      volume: 1,
      noiseScale: 0.667,
      noiseW: 0.8,
      sentenceSilence: 0,
      useCache: true,
    };
    const response = await running().grpc.synthesize({ text, config: explicit });
    expect(response.cached).toBe(true);
    expect(bytes(response.audio).equals(bytes(first.audio))).toBe(true);
  });

  it("use_cache=false after a cached call synthesizes again, and unset or true reads the cache", async () => {
    const text = "Caching can be turned off for one call.";
    const first = await running().grpc.synthesize({ text });
    expect(first.cached).toBe(false);
    expect((await running().grpc.synthesize({ text })).cached).toBe(true);
    expect((await running().grpc.synthesize({ text, config: { useCache: true } })).cached).toBe(true);

    const before = await settledStats(running().grpc); // no disk store pending
    const uncached = await running().grpc.synthesize({ text, config: { useCache: false } });
    expect(uncached.cached).toBe(false);
    expect(bytes(uncached.audio).equals(bytes(first.audio))).toBe(false); // synthesized anew
    const after = await cacheStats(running().grpc);
    // Not even looked up: no tier counted a lookup.
    expect(after.total).toEqual(before.total);
    expect(after.memory).toEqual(before.memory);

    // And it did not overwrite the entry.
    const cachedAgain = await running().grpc.synthesize({ text });
    expect(cachedAgain.cached).toBe(true);
    expect(bytes(cachedAgain.audio).equals(bytes(first.audio))).toBe(true);
  });

  it("use_cache=false on a first call stores nothing: a later default call is a miss", async () => {
    const text = "Nothing is stored when caching is off.";
    const before = await settledStats(running().grpc); // no disk store pending
    const uncached = await running().connect.synthesize({ text, config: { useCache: false } });
    expect(uncached.cached).toBe(false);
    // A second uncached call and the stats settle any background store there could be.
    await running().connect.synthesize({ text, config: { useCache: false } });
    const after = await cacheStats(running().grpc);
    expect(after.total).toEqual(before.total);
    expect([after.memory.entries, after.disk.entries]).toEqual([before.memory.entries, before.disk.entries]);

    const first = await running().connect.synthesize({ text });
    expect(first.cached).toBe(false);
    const stats = await cacheStats(running().grpc);
    expect(stats.total.misses).toBe(before.total.misses + 1);
    expect(stats.memory.entries).toBe(before.memory.entries + 1);
  });
});

describe("single flight", () => {
  // Two workers (the default), so that duplicate syntheses could run side by side.
  const running = cachedServerPerSuite({ MAX_CONCURRENT_REQUESTS: "2" });

  it("synthesizes 8 concurrent identical calls once; every caller gets that one result", async () => {
    // Long enough (several seconds of synthesis) that all eight calls arrive while the
    // first one is still being synthesized.
    const text =
      "Eight callers ask for the same sentence at the same moment. The service looks it up once, " +
      "synthesizes it once, and hands the very same audio to every one of them. " +
      "Nobody waits for a second synthesis, and the cache holds a single entry afterwards.";
    const responses = await Promise.all(Array.from({ length: 8 }, () => running().grpc.synthesize({ text })));
    const [first] = responses;
    for (const response of responses) expect(bytes(response.audio).equals(bytes(first!.audio))).toBe(true);
    // getOrCreate's waiters share the producing call's result (cached=false) and the
    // one lookup it made: one miss, no hits.
    expect(responses.map((response) => response.cached)).toEqual(Array(8).fill(false));
    const stats = await cacheStats(running().grpc);
    expect(stats.total).toMatchObject({ hits: 0, misses: 1 });
    expect(stats.memory).toMatchObject({ hits: 0, misses: 1, entries: 1 });
    expect(stats.disk.misses).toBe(1);

    const later = await running().grpc.synthesize({ text });
    expect(later.cached).toBe(true);
    expect(bytes(later.audio).equals(bytes(first!.audio))).toBe(true);
    // One entry in memory and one on disk, once the background store has landed.
    expect((await waitForEntries(running().grpc, 1)).total).toMatchObject({ hits: 1, misses: 1, entries: 2 });
  });

  it("does not fail the callers waiting for a shared synthesis when the caller that started it cancels", async () => {
    const text =
      "The first caller starts this synthesis and then gives up. The second caller waits for the same sentence. " +
      "It must get its audio, not the first caller's cancellation. The service synthesizes again for it if it must. " +
      "These sentences make the synthesis long enough to cancel it halfway.";
    const before = (await settledStats(running().grpc)).total.misses;
    const controller = new AbortController();
    const first = running()
      .grpc.synthesize({ text }, { signal: controller.signal })
      .then(
        () => "completed",
        (error: unknown) => error,
      );
    // Once its lookup has missed, the first caller is the one synthesizing...
    await waitUntil(async () => (await cacheStats(running().grpc)).total.misses > before, "the first caller's lookup");
    // ...and the second, arriving while it runs, waits for that synthesis.
    const second = running().grpc.synthesize({ text });
    await sleep(300);
    controller.abort();
    expect(await first).toMatchObject({ code: Code.Canceled });

    const response = await second;
    expect(response.cached).toBe(false);
    expect(response.durationSeconds).toBeGreaterThan(5);
    expect((await running().grpc.synthesize({ text })).cached).toBe(true);
  });
});
