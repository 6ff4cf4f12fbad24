// Two instances of the real service sharing one real redis-server (each with its own
// CACHE_DIR): entries spoken by one are served by the other from Redis, and losing Redis
// costs hits, never calls; with 200,000 keys in Redis, the cache figures cost Redis nothing.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { DEFAULT_KEY_PREFIX } from "../../src/cache/index.js";
import { RedisServer } from "../cache/redis-server.js";
import { bytes, cacheStats, collectStream, startCachedServer, tempDir, waitForEntries, waitUntil, type CachedServer } from "./support.js";

const WARN = 40;

const servers: CachedServer[] = [];
const redises: RedisServer[] = [];
const dirs: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const server of servers) await server.app.close();
  for (const redis of redises) await redis.kill();
  await Promise.all(dirs.map((remove) => remove()));
});

async function startRedis(): Promise<RedisServer> {
  const redis = await RedisServer.start();
  redises.push(redis);
  return redis;
}

/** Two instances on `redis`, each over its own new CACHE_DIR. */
async function startPair(redis: RedisServer): Promise<[CachedServer, CachedServer]> {
  const pair: CachedServer[] = [];
  for (let i = 0; i < 2; i++) {
    const { dir, remove } = await tempDir();
    dirs.push(remove);
    const running = await startCachedServer(dir, { REDIS_URL: redis.url, REDIS_SIZE_REFRESH_SECONDS: "1" });
    servers.push(running);
    pair.push(running);
  }
  return pair as [CachedServer, CachedServer];
}

/** Waits until `running`'s estimate of its Redis tier (refreshed every second here) holds `entries` keys. */
const redisEntries = (running: CachedServer, entries: number) => waitForEntries(running.grpc, entries, ["redis"]);

const outageLines = (running: CachedServer) => running.logLines.filter((line) => line.tier === "redis" && (line.level as number) >= WARN);

describe("sharing through Redis", () => {
  let a: CachedServer;
  let b: CachedServer;

  beforeAll(async () => {
    [a, b] = await startPair(await startRedis());
  });

  it("serves a phrase synthesized on instance A to instance B from the redis tier", async () => {
    const text = "Spoken on one instance, heard on the other.";
    const spoken = await a.grpc.synthesize({ text });
    expect(spoken.cached).toBe(false);
    await redisEntries(b, 1);

    const heard = await b.grpc.synthesize({ text });
    expect(heard.cached).toBe(true);
    expect(bytes(heard.audio).equals(bytes(spoken.audio))).toBe(true);
    const stats = await cacheStats(b.grpc);
    expect(stats.tierNames).toEqual(["memory", "disk", "redis"]);
    expect(stats.redis).toMatchObject({ hits: 1, misses: 0, entries: 1, errors: 0, available: true });
    expect(stats.memory).toMatchObject({ hits: 0, misses: 1 });
    expect(stats.disk).toMatchObject({ hits: 0, misses: 1 });
    expect(stats.total).toMatchObject({ hits: 1, misses: 0 });
    // B copied the entry up: memory now, and disk once the background store lands.
    expect((await b.grpc.synthesize({ text })).cached).toBe(true);
    expect((await cacheStats(b.grpc)).memory.hits).toBe(1);
    await waitForEntries(b.grpc, 1, ["disk"]);
  });

  it("shares a completed stream from B with A, as a unary file and as a replayed stream", async () => {
    const text = "Streamed on the second instance. Replayed on the first.";
    const config = { encoding: AudioEncoding.FLAC };
    const streamed = await collectStream(b.connect.synthesizeStream({ text, config }));
    expect(streamed.summary?.cached).toBe(false);
    await redisEntries(a, 2);

    const replay = await collectStream(a.connect.synthesizeStream({ text, config }));
    expect(replay.summary?.cached).toBe(true);
    expect(replay.summary?.sentenceCount).toBe(2);
    const unary = await a.grpc.synthesize({ text, config });
    expect(unary.cached).toBe(true);
    expect(bytes(unary.audio).equals(replay.audio)).toBe(true);
    expect((await cacheStats(a.grpc)).redis).toMatchObject({ hits: 1 });
  });
});

describe("losing Redis", () => {
  let redis: RedisServer;
  let a: CachedServer;
  let b: CachedServer;

  beforeAll(async () => {
    redis = await startRedis();
    [a, b] = await startPair(redis);
  });

  it("keeps serving on both instances while Redis is down, logs the outage once per instance, and shares again once it is back", async () => {
    const before = "Shared before Redis goes away.";
    await a.grpc.synthesize({ text: before });
    await redisEntries(b, 1);
    expect((await b.grpc.synthesize({ text: before })).cached).toBe(true);
    expect([outageLines(a), outageLines(b)]).toEqual([[], []]);

    await redis.kill();
    for (const running of [a, b]) {
      await waitUntil(async () => !(await cacheStats(running.grpc)).redis!.available, "Redis to be reported unavailable");
    }

    // Ten calls, unary and streamed, on both instances: all synthesized, all successful.
    for (let i = 0; i < 10; i++) {
      const running = i % 2 === 0 ? a : b;
      const text = `Call number ${i + 1} while Redis is down.`;
      if (i % 4 < 2) {
        const response = await running.grpc.synthesize({ text });
        expect(response.cached).toBe(false);
        expect(response.durationSeconds).toBeGreaterThan(0.5);
      } else {
        const stream = await collectStream(running.connect.synthesizeStream({ text }));
        expect(stream.summary?.cached).toBe(false);
        expect(stream.audio.length).toBeGreaterThan(10_000);
      }
    }
    // What the instance itself holds still answers.
    expect((await a.grpc.synthesize({ text: "Call number 1 while Redis is down." })).cached).toBe(true);

    for (const running of [a, b]) {
      const stats = await cacheStats(running.grpc);
      expect(stats.redis).toMatchObject({ available: false });
      expect(stats.redis!.errors).toBeGreaterThan(0);
      expect(stats.total.errors).toBeGreaterThanOrEqual(stats.redis!.errors);
      expect(stats.disk).toMatchObject({ available: true, errors: 0 });
      expect(outageLines(running)).toHaveLength(1);
    }

    await redis.restart(); // same port, empty
    for (const running of [a, b]) {
      await waitUntil(async () => (await cacheStats(running.grpc)).redis!.available, "Redis to be reported available again");
    }
    const after = "Shared again after Redis came back.";
    const spoken = await b.grpc.synthesize({ text: after });
    expect(spoken.cached).toBe(false);
    await redisEntries(a, 1);
    const redisHits = (await cacheStats(a.grpc)).redis!.hits;
    const heard = await a.grpc.synthesize({ text: after });
    expect(heard.cached).toBe(true);
    expect(bytes(heard.audio).equals(bytes(spoken.audio))).toBe(true);
    expect((await cacheStats(a.grpc)).redis!.hits).toBe(redisHits + 1);

    for (const running of [a, b]) {
      expect(outageLines(running)).toHaveLength(1);
      expect(running.logLines.filter((line) => line.tier === "redis" && line.msg === "redis cache tier recovered")).toHaveLength(1);
    }
  });
});

describe("cache figures with a large Redis", () => {
  it("answers Health, GetCacheStats and /metrics without a Redis command, from the estimate, and still while Redis hangs", async () => {
    const redis = await startRedis();
    await redis.fill(DEFAULT_KEY_PREFIX, 200_000, 100);
    const { dir, remove } = await tempDir();
    dirs.push(remove);
    // No periodic estimate during the test: the one at start is what the calls report.
    const running = await startCachedServer(dir, { REDIS_URL: redis.url, REDIS_SIZE_REFRESH_SECONDS: "3600" });
    servers.push(running);

    const before = await redis.commandCalls();
    for (let i = 0; i < 20; i++) {
      await running.grpc.getCacheStats({});
      await running.grpc.health({});
      expect((await fetch(`${running.baseUrl}/metrics`)).status).toBe(200);
    }
    expect(await redis.commandCalls()).toEqual(before);

    const stats = await cacheStats(running.grpc);
    // Every key in the database has the service's prefix, so the sample scales to DBSIZE exactly.
    expect(stats.redis).toMatchObject({ entries: 200_000, sizeBytes: 200_000 * 100, available: true });
    expect((await running.grpc.getCacheStats({})).tiers.find((tier) => tier.tier === "redis")!.sizeAgeSeconds).toBeGreaterThan(0);
    expect((await running.grpc.health({})).cacheEntries).toBe(200_000n);
    expect(await (await fetch(`${running.baseUrl}/metrics`)).text()).toContain('aetheros_tts_cache_entries{tier="redis"} 200000');

    redis.pause();
    // A lookup finds the hang (its GET times out); the call itself is synthesized.
    expect((await running.grpc.synthesize({ text: "Spoken while Redis hangs." })).cached).toBe(false);
    const hung = await cacheStats(running.grpc);
    expect(hung.redis).toMatchObject({ entries: 200_000, available: false });
    expect(hung.redis!.errors).toBeGreaterThan(0);
    expect((await running.grpc.health({})).cacheEntries).toBe(BigInt(hung.total.entries));
    expect(await (await fetch(`${running.baseUrl}/metrics`)).text()).toContain('aetheros_tts_cache_entries{tier="redis"} 200000');
    redis.resume();
  });
});
