// The cache's life beyond one call, against the real service: entries survive a restart
// on disk, expire with CACHE_TTL_SECONDS, are evicted to respect CACHE_SIZE_MB and
// CACHE_MAX_ENTRIES, and a replaced voice model file invalidates them.

import { appendFile, copyFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, DEFAULT_MODEL, DEFAULT_VOICE } from "../support/voice.js";
import { bytes, type CachedServer, cacheStats, startCachedServer, tempDir, waitForLog, waitUntil } from "./support.js";

const MIB = 1024 * 1024;

const servers: CachedServer[] = [];
const dirs: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.app.close();
  await Promise.all(dirs.splice(0).map((remove) => remove()));
});

async function newDir(): Promise<string> {
  const { dir, remove } = await tempDir();
  dirs.push(remove);
  return dir;
}

async function start(cacheDir: string, env: Record<string, string> = {}): Promise<CachedServer> {
  const running = await startCachedServer(cacheDir, env);
  servers.push(running);
  return running;
}

describe("restart", () => {
  it("serves an entry from disk to a new server over the same CACHE_DIR", async () => {
    const cacheDir = await newDir();
    const text = "This sentence outlives the server that spoke it.";
    const first = await start(cacheDir);
    const original = await first.grpc.synthesize({ text });
    expect(original.cached).toBe(false);
    await first.app.close(); // flushes the disk tier's background writes
    servers.splice(servers.indexOf(first), 1);

    const second = await start(cacheDir);
    const before = await cacheStats(second.grpc);
    expect(before.disk.entries).toBe(1);
    expect(before.memory.entries).toBe(0);
    const response = await second.grpc.synthesize({ text });
    expect(response.cached).toBe(true);
    expect(bytes(response.audio).equals(bytes(original.audio))).toBe(true);
    expect(response).toMatchObject({
      durationSeconds: original.durationSeconds,
      sampleRate: original.sampleRate,
      modelUsed: original.modelUsed,
    });
    const stats = await cacheStats(second.grpc);
    expect(stats.memory).toMatchObject({ hits: 0, misses: 1, entries: 1 }); // promoted to memory
    expect(stats.disk).toMatchObject({ hits: 1, misses: 0, entries: 1 });
    expect(stats.total).toMatchObject({ hits: 1, misses: 0 });
    // The next one is a memory hit.
    expect((await second.grpc.synthesize({ text })).cached).toBe(true);
    expect((await cacheStats(second.grpc)).memory.hits).toBe(1);
  });
});

describe("CACHE_TTL_SECONDS", () => {
  it("expires entries in every tier: a hit within the TTL, a miss after it", async () => {
    const running = await start(await newDir(), { CACHE_TTL_SECONDS: "1" });
    const text = "This entry lives for one second.";
    const sent = Date.now(); // before the entry was stored
    const first = await running.grpc.synthesize({ text });
    expect(first.cached).toBe(false);
    const hit = await running.grpc.synthesize({ text });
    // Within the TTL it is a hit (checked only when the machine was quick enough to ask within it).
    if (Date.now() - sent < 1000) expect(hit.cached).toBe(true);
    // The disk copy is stored too (and may already have expired on a stalled machine).
    await waitUntil(async () => {
      const { disk } = await cacheStats(running.grpc);
      return disk.entries + disk.evictions > 0;
    }, "the disk copy");
    // The TTL is what is tested here, so this waits real time: 1.5 s for a 1 s TTL.
    await sleep(1500);

    const expired = await running.grpc.synthesize({ text });
    expect(expired.cached).toBe(false);
    expect(bytes(expired.audio).equals(bytes(first.audio))).toBe(false); // synthesized anew
    const stats = await cacheStats(running.grpc);
    expect(stats.disk.misses).toBeGreaterThanOrEqual(1); // the disk copy had expired too
    expect(stats.memory.evictions + stats.disk.evictions).toBeGreaterThanOrEqual(2);
  });
});

describe("CACHE_SIZE_MB", () => {
  it("evicts the least recently used entries to keep each tier within the byte budget", async () => {
    const running = await start(await newDir(), { CACHE_SIZE_MB: "1" });
    // At 48 kHz a WAV file is 96 kB per second: each of these is 200 to 450 kB.
    const texts = [
      "The first sentence is long enough for a file that matters.",
      "The second sentence adds a few hundred kilobytes more.",
      "The third one pushes the cache over its budget.",
      "The fourth makes sure that something old has to go.",
      "And the fifth is there to be certain of it.",
      "The sixth and last one leaves no doubt at all.",
    ];
    const sizes: number[] = [];
    for (const text of texts) {
      const response = await running.grpc.synthesize({ text, config: { sampleRate: 48000 } });
      expect(response.cached).toBe(false);
      sizes.push(response.audio.length);
    }
    // More than the budget (Piper's noise varies the lengths a little from run to run).
    expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(MIB);
    expect(Math.max(...sizes)).toBeLessThan(MIB / 2);

    let stats = await cacheStats(running.grpc);
    await waitUntil(async () => (stats = await cacheStats(running.grpc)).disk.evictions > 0, "a disk eviction");
    expect(stats.memory.evictions).toBeGreaterThan(0);
    for (const tier of [stats.memory, stats.disk]) {
      expect(tier.sizeBytes).toBeLessThanOrEqual(MIB);
      expect(tier.entries).toBeLessThan(texts.length);
    }
    expect(stats.total.sizeBytes).toBe(stats.memory.sizeBytes + stats.disk.sizeBytes);
    expect(stats.total.evictions).toBe(stats.memory.evictions + stats.disk.evictions);

    // The newest entry stayed, the oldest went from every tier.
    expect((await running.grpc.synthesize({ text: texts[5]!, config: { sampleRate: 48000 } })).cached).toBe(true);
    expect((await running.grpc.synthesize({ text: texts[0]!, config: { sampleRate: 48000 } })).cached).toBe(false);
  });
});

describe("CACHE_MAX_ENTRIES", () => {
  it("keeps at most that many entries per tier, dropping the least recently used", async () => {
    const running = await start(await newDir(), { CACHE_MAX_ENTRIES: "2" });
    for (const text of ["One.", "Two.", "Three."]) expect((await running.grpc.synthesize({ text })).cached).toBe(false);
    // The disk tier stores in the background: wait for the third store's eviction.
    let stats = await cacheStats(running.grpc);
    await waitUntil(async () => (stats = await cacheStats(running.grpc)).disk.evictions > 0, "a disk eviction");
    expect(stats.memory).toMatchObject({ entries: 2, evictions: 1 });
    expect(stats.disk).toMatchObject({ entries: 2, evictions: 1 });
    expect((await running.grpc.synthesize({ text: "Three." })).cached).toBe(true);
    expect((await running.grpc.synthesize({ text: "One." })).cached).toBe(false);
  });
});

describe("a replaced voice model file", () => {
  it("invalidates the voice's entries: the same request is synthesized again with the new model", async () => {
    const modelsDir = await newDir();
    const model = join(modelsDir, `${DEFAULT_VOICE}.onnx`);
    await copyFile(DEFAULT_MODEL, model);
    await copyFile(DEFAULT_CONFIG, `${model}.json`);
    const running = await start(await newDir(), { MODELS_DIR: modelsDir });
    const text = "A new model file means new audio.";
    const first = await running.grpc.synthesize({ text });
    expect(first.cached).toBe(false);
    expect((await running.grpc.synthesize({ text })).cached).toBe(true);

    // A still-valid model with other bytes: an unknown ModelProto field (number 1000,
    // length-delimited, one byte) appended, which protobuf parsers skip. Put in place
    // by a rename, as a deployment would.
    const replacement = join(modelsDir, "replacement.tmp");
    await copyFile(model, replacement);
    await appendFile(replacement, Buffer.from([0xc2, 0x3e, 0x01, 0x00]));
    await rename(replacement, model);
    const since = running.logLines.length;

    // The new file loads beside the old sessions; until it speaks, the old model answers.
    const during = await running.grpc.synthesize({ text });
    expect(during.audio).toEqual(first.audio);
    await waitForLog(running, since, (line) => line.msg === "voice reloaded: its files changed on disk", "the reload");
    const after = await running.grpc.synthesize({ text });
    expect(after.cached).toBe(false);
    expect(after.modelUsed).toBe(first.modelUsed);
    expect(after.durationSeconds).toBeGreaterThan(1);
    expect((await running.grpc.synthesize({ text })).cached).toBe(true);
    // The old model's entry is still stored (until evicted), under a key no request makes.
    const stats = await cacheStats(running.grpc);
    expect(stats.memory.entries).toBe(2);
  });
});
