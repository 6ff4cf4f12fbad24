import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { openAudioCache, type CachedAudio } from "../../src/cache/index.js";
import { cacheOptions, capturingLogger, sampleAudio } from "./fixtures.js";

const { logger } = capturingLogger();

describe("memory tier", () => {
  it("misses, then hits what was stored", async () => {
    const cache = await openAudioCache(cacheOptions(logger));
    expect(await cache.get("k1")).toBeUndefined();
    const audio = sampleAudio(2000);
    cache.put("k1", audio);
    const hit = await cache.get("k1");
    expect(hit).toEqual({ cached: true, tier: "memory", audio });
    expect(await cache.get("k2")).toBeUndefined();

    const { total, tiers } = cache.stats();
    expect(tiers.map((tier) => tier.tier)).toEqual(["memory"]);
    expect(tiers[0]).toMatchObject({ hits: 1, misses: 2, entries: 1, evictions: 0, errors: 0, available: true });
    expect(tiers[0]?.hitRate).toBeCloseTo(1 / 3);
    expect(tiers[0]?.sizeBytes).toBeGreaterThanOrEqual(2000);
    expect(total).toMatchObject({ tier: "total", hits: 1, misses: 2, entries: 1 });
  });

  it("expires entries after the TTL", async () => {
    const cache = await openAudioCache(cacheOptions(logger, { ttlSeconds: 0.1 }));
    cache.put("k1", sampleAudio(100));
    expect(await cache.get("k1")).toBeDefined();
    await sleep(150);
    expect(await cache.get("k1")).toBeUndefined();
    expect(cache.stats().tiers[0]).toMatchObject({ entries: 0, evictions: 1 });
  });

  it("evicts the least recently used entries to stay within the byte budget", async () => {
    const cache = await openAudioCache(cacheOptions(logger, { sizeBytes: 10_000 }));
    for (let i = 0; i < 5; i++) cache.put(`k${i}`, sampleAudio(4000, i));
    const memory = cache.stats().tiers[0];
    expect(memory).toMatchObject({ entries: 2, evictions: 3 });
    expect(memory?.sizeBytes).toBeLessThanOrEqual(10_000);
    expect(await cache.get("k0")).toBeUndefined();
    expect((await cache.get("k4"))?.audio.bytes[0]).toBe(4);
  });

  it("evicts beyond the entry limit", async () => {
    const cache = await openAudioCache(cacheOptions(logger, { maxEntries: 2 }));
    for (let i = 0; i < 3; i++) cache.put(`k${i}`, sampleAudio(10, i));
    expect(cache.stats().tiers[0]).toMatchObject({ entries: 2, evictions: 1 });
  });

  it("clear empties the tier and reports what it removed", async () => {
    const cache = await openAudioCache(cacheOptions(logger));
    cache.put("k1", sampleAudio(1000));
    cache.put("k2", sampleAudio(1000));
    await cache.get("k1");
    const removed = await cache.clear();
    expect(removed.entriesRemoved).toBe(2);
    expect(removed.bytesRemoved).toBeGreaterThanOrEqual(2000);
    expect(await cache.get("k1")).toBeUndefined();
    expect(cache.stats().tiers[0]).toMatchObject({ entries: 0, sizeBytes: 0, hits: 0, misses: 1 });
  });
});

describe("getOrCreate", () => {
  it("runs one produce for concurrent lookups of one key", async () => {
    const cache = await openAudioCache(cacheOptions(logger));
    let calls = 0;
    const produce = async (): Promise<CachedAudio> => {
      calls++;
      await sleep(50);
      return sampleAudio(500);
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.getOrCreate("k1", produce)));
    expect(calls).toBe(1);
    expect(results.every((result) => result.cached === false && result.audio === results[0]?.audio)).toBe(true);

    const again = await cache.getOrCreate("k1", produce);
    expect(calls).toBe(1);
    expect(again).toMatchObject({ cached: true, tier: "memory" });
  });

  it("runs produce separately for different keys", async () => {
    const cache = await openAudioCache(cacheOptions(logger));
    let calls = 0;
    const produce = async (): Promise<CachedAudio> => {
      calls++;
      return sampleAudio(10);
    };
    await Promise.all([cache.getOrCreate("k1", produce), cache.getOrCreate("k2", produce)]);
    expect(calls).toBe(2);
  });

  it("hands a failure to every waiter and does not cache it", async () => {
    const cache = await openAudioCache(cacheOptions(logger));
    let calls = 0;
    const failing = async (): Promise<CachedAudio> => {
      calls++;
      await sleep(20);
      throw new Error("engine down");
    };
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => cache.getOrCreate("k1", failing)));
    expect(calls).toBe(1);
    expect(results.every((result) => result.status === "rejected")).toBe(true);

    const recovered = await cache.getOrCreate("k1", async () => {
      calls++;
      return sampleAudio(10);
    });
    expect(calls).toBe(2);
    expect(recovered.cached).toBe(false);
  });
});

describe("disabled cache", () => {
  it("always misses and stores nothing", async () => {
    const cache = await openAudioCache(cacheOptions(logger, { enabled: false }));
    let calls = 0;
    const produce = async (): Promise<CachedAudio> => {
      calls++;
      return sampleAudio(10);
    };
    cache.put("k1", sampleAudio(10));
    expect(await cache.get("k1")).toBeUndefined();
    expect((await cache.getOrCreate("k1", produce)).cached).toBe(false);
    expect((await cache.getOrCreate("k1", produce)).cached).toBe(false);
    expect(calls).toBe(2);
    const stats = cache.stats();
    expect(stats.enabled).toBe(false);
    expect(stats.tiers).toEqual([]);
  });
});

describe("options", () => {
  it("rejects limits that cannot bound the cache", async () => {
    await expect(openAudioCache(cacheOptions(logger, { sizeBytes: 0 }))).rejects.toThrow(RangeError);
    await expect(openAudioCache(cacheOptions(logger, { maxEntries: 1.5 }))).rejects.toThrow(RangeError);
    await expect(openAudioCache(cacheOptions(logger, { ttlSeconds: -1 }))).rejects.toThrow(RangeError);
  });
});
