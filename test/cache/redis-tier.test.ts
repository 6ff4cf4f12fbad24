import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { openAudioCache, type AudioCache, type AudioCacheOptions, type CacheTierStats } from "../../src/cache/index.js";
import { WARN, cacheOptions, capturingLogger, sampleAudio, waitFor, withTempDir } from "./fixtures.js";
import { RedisServer } from "./redis-server.js";

let redis: RedisServer;
const opened: AudioCache[] = [];
const cleanups: Array<() => Promise<void>> = [];
let prefixCounter = 0;

beforeAll(async () => {
  redis = await RedisServer.start();
});

afterAll(async () => {
  await redis.kill();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** Each test gets its own key prefix, so tests sharing the server cannot see each other's keys. */
function testPrefix(): string {
  return `test${++prefixCounter}:`;
}

async function open(overrides: Partial<AudioCacheOptions>, logger = capturingLogger().logger): Promise<AudioCache> {
  const cache = await openAudioCache(cacheOptions(logger, { redisUrl: redis.url, ...overrides }));
  opened.push(cache);
  return cache;
}

function tierStats(cache: AudioCache, tier: string): CacheTierStats {
  const stats = cache.stats().tiers.find((candidate) => candidate.tier === tier);
  if (!stats) throw new Error(`no ${tier} tier`);
  return stats;
}

const redisAvailable = (cache: AudioCache) => async () => tierStats(cache, "redis").available;

/** A size estimate this often, so a test can wait for one to see a store made elsewhere. */
const QUICK_ESTIMATES = { redisSizeRefreshSeconds: 0.05 };

/** Waits until `cache`'s estimate of its Redis tier holds `entries` entries. */
const redisEntries = (cache: AudioCache, entries: number) => waitFor(async () => tierStats(cache, "redis").entries === entries, 5000);

describe("redis tier", () => {
  it("shares entries between cache instances: stored through A, a hit on B", async () => {
    const keyPrefix = testPrefix();
    const a = await open({ keyPrefix });
    const b = await open({ keyPrefix, ...QUICK_ESTIMATES });
    expect(await redisAvailable(b)()).toBe(true); // open waits for the first connection

    a.put("k1", sampleAudio(100_000));
    await a.flush();
    await redisEntries(b, 1); // B's estimate sees A's store
    const hit = await b.get("k1");
    expect(hit).toMatchObject({ cached: true, tier: "redis" });
    expect(hit?.audio).toEqual(sampleAudio(100_000));
    expect((await b.get("k1"))?.tier).toBe("memory");
    expect(tierStats(b, "redis")).toMatchObject({ hits: 1, misses: 0, entries: 1, errors: 0, available: true });
    expect(tierStats(b, "redis").sizeBytes).toBeGreaterThan(100_000);
  });

  it("promotes a Redis hit to the disk tier", async () => {
    const keyPrefix = testPrefix();
    const { dir, remove } = await withTempDir();
    cleanups.push(remove);
    const a = await open({ keyPrefix });
    const b = await open({ keyPrefix, dir });
    a.put("k1", sampleAudio(1000));
    await a.flush();
    expect((await b.get("k1"))?.tier).toBe("redis");
    await b.flush();
    await b.close();

    const diskOnly = await openAudioCache(cacheOptions(capturingLogger().logger, { dir }));
    opened.push(diskOnly);
    expect((await diskOnly.get("k1"))?.tier).toBe("disk");
  });

  it("lets Redis expire entries with the TTL", async () => {
    const keyPrefix = testPrefix();
    const a = await open({ keyPrefix, ttlSeconds: 0.3 });
    const b = await open({ keyPrefix, ttlSeconds: 0.3, ...QUICK_ESTIMATES });
    a.put("k1", sampleAudio(1000));
    await a.flush();
    await redisEntries(b, 1);
    await sleep(400);
    expect(await b.get("k1")).toBeUndefined();
    await redisEntries(b, 0);
  });

  it("clear empties every tier, and in Redis only this prefix", async () => {
    const keyPrefix = testPrefix();
    const { dir, remove } = await withTempDir();
    cleanups.push(remove);
    // Unescaped, SCAN MATCH "t4*:*" would also match the neighbour's "t4x:" keys.
    const cache = await open({ keyPrefix: `${keyPrefix}*:`, dir, ...QUICK_ESTIMATES });
    const neighbour = await open({ keyPrefix: `${keyPrefix}x:` });
    for (let i = 0; i < 3; i++) cache.put(`k${i}`, sampleAudio(1000, i));
    neighbour.put("k0", sampleAudio(1000));
    await Promise.all([cache.flush(), neighbour.flush()]);
    await redisEntries(cache, 3);
    const before = cache.stats();
    expect(before.tiers.map((tier) => [tier.tier, tier.entries])).toEqual([
      ["memory", 3],
      ["disk", 3],
      ["redis", 3],
    ]);

    const removed = await cache.clear();
    expect(removed.entriesRemoved).toBe(9);
    expect(removed.bytesRemoved).toBe(before.total.sizeBytes);
    const after = cache.stats();
    expect(after.tiers.map((tier) => [tier.tier, tier.entries, tier.sizeBytes])).toEqual([
      ["memory", 0, 0],
      ["disk", 0, 0],
      ["redis", 0, 0],
    ]);
    const fresh = await open({ keyPrefix: `${keyPrefix}*:` });
    expect(await fresh.get("k0")).toBeUndefined();
    const freshNeighbour = await open({ keyPrefix: `${keyPrefix}x:` });
    expect((await freshNeighbour.get("k0"))?.tier).toBe("redis");
  });
});

describe("redis outage", () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    await server.kill();
  });

  it("turns a killed Redis into misses, logs once, and resumes after a restart", { timeout: 30_000 }, async () => {
    const { logger, lines } = capturingLogger();
    const keyPrefix = testPrefix();
    const a = await open({ redisUrl: server.url, keyPrefix }, logger);
    const b = await open({ redisUrl: server.url, keyPrefix });
    a.put("before", sampleAudio(1000));
    await a.flush();
    expect((await b.get("before"))?.tier).toBe("redis");

    await server.kill();
    await waitFor(async () => !(await redisAvailable(a)()), 5000);
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      expect(await a.get(`missing${i}`)).toBeUndefined();
      a.put(`during${i}`, sampleAudio(100));
    }
    await a.flush();
    expect(Date.now() - started).toBeLessThan(2000); // fail fast, no waiting on a dead server
    const down = tierStats(a, "redis");
    expect(down.available).toBe(false);
    expect(down.errors).toBeGreaterThanOrEqual(40); // 20 lookups + 20 stores
    expect(down.misses).toBe(20);
    const warnings = lines.filter((line) => line.level >= WARN && line.tier === "redis");
    expect(warnings).toHaveLength(1);

    await server.restart();
    await waitFor(redisAvailable(a), 10_000);
    await waitFor(redisAvailable(b), 10_000);
    a.put("after", sampleAudio(1000));
    await a.flush();
    expect((await b.get("after"))?.tier).toBe("redis");
    expect(lines.filter((line) => line.level >= WARN && line.tier === "redis")).toHaveLength(1);
    expect(lines.some((line) => line.tier === "redis" && /recovered/.test(line.msg))).toBe(true);
  });

  it("bounds a lookup on a hung Redis by the command timeout, and one in flight when it dies", async () => {
    const hung = await RedisServer.start();
    onTestFinished(() => hung.kill()); // runs even when the test times out
    const cache = await open({ redisUrl: hung.url, keyPrefix: testPrefix() });
    hung.pause();
    let started = performance.now();
    expect(await cache.get("k1")).toBeUndefined();
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThan(400);
    expect(waited).toBeLessThan(1500);

    const inFlight = cache.get("k2");
    await sleep(50);
    started = performance.now();
    await hung.kill();
    expect(await inFlight).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(300); // dropped with the link, not left to time out
    expect(tierStats(cache, "redis").errors).toBeGreaterThanOrEqual(2);
  });

  it("starts without a reachable Redis and answers with misses", async () => {
    const { logger, lines } = capturingLogger();
    const down = await RedisServer.start();
    await down.kill();
    const cache = await open({ redisUrl: down.url, keyPrefix: testPrefix() }, logger);
    cache.put("k1", sampleAudio(100));
    await cache.flush();
    expect((await cache.get("k1"))?.tier).toBe("memory");
    expect(await cache.get("k2")).toBeUndefined();
    expect(tierStats(cache, "redis")).toMatchObject({ available: false });
    expect(lines.filter((line) => line.level >= WARN)).toHaveLength(1);
  });
});

describe("redis size estimate", () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    await server.kill();
  });

  it("estimates 200,000 keys among 300,000 from a bounded sample, and stats() sends Redis nothing", { timeout: 120_000 }, async () => {
    const keyPrefix = "estimated:";
    await server.fill(keyPrefix, 200_000, 100);
    await server.fill("someone-else:", 100_000, 100);
    const beforeOpen = await server.commandCalls();
    const cache = await open({ redisUrl: server.url, keyPrefix });
    const afterOpen = await server.commandCalls();

    const redis = tierStats(cache, "redis");
    expect(redis.entries).toBeGreaterThan(190_000);
    expect(redis.entries).toBeLessThan(210_000);
    expect(redis.sizeBytes / redis.entries).toBeCloseTo(100, 1); // every value is 100 bytes
    // The estimate at open read a sample, not the keyspace: counting it all would take
    // 600 SCAN calls of 500 keys and 200,000 STRLENs.
    const used = (command: string) => (afterOpen[command] ?? 0) - (beforeOpen[command] ?? 0);
    expect(used("scan")).toBeLessThan(60);
    expect(used("strlen")).toBeLessThanOrEqual(10_500);
    expect(used("keys")).toBe(0);

    for (let i = 0; i < 1000; i++) cache.stats();
    expect(await server.commandCalls()).toEqual(afterOpen);
  });

  it("keeps the last estimate while Redis hangs, reporting it unavailable and the estimate's growing age", async () => {
    const hung = await RedisServer.start();
    onTestFinished(() => hung.kill());
    const cache = await open({ redisUrl: hung.url, keyPrefix: testPrefix(), ...QUICK_ESTIMATES });
    cache.put("k1", sampleAudio(1000, 1));
    cache.put("k2", sampleAudio(1000, 2));
    await cache.flush();
    await redisEntries(cache, 2);
    const measured = tierStats(cache, "redis");

    hung.pause();
    // Nothing else talks to Redis now: the periodic estimate finds the hang.
    await waitFor(async () => !tierStats(cache, "redis").available, 5000);
    const during = tierStats(cache, "redis");
    expect(during).toMatchObject({ entries: 2, sizeBytes: measured.sizeBytes, available: false });
    await waitFor(async () => tierStats(cache, "redis").sizeAgeSeconds > during.sizeAgeSeconds + 0.5, 5000);

    hung.resume();
    await waitFor(async () => tierStats(cache, "redis").available, 5000);
    await waitFor(async () => tierStats(cache, "redis").sizeAgeSeconds < during.sizeAgeSeconds, 5000);
    expect(tierStats(cache, "redis")).toMatchObject({ entries: 2, sizeBytes: measured.sizeBytes });
  });
});
