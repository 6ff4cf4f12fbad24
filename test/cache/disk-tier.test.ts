import cacache from "cacache";
import { access, mkdir, readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openAudioCache, type AudioCache, type AudioCacheOptions } from "../../src/cache/index.js";
import { makeUnwritable } from "../support/unwritable-dir.js";
import { WARN, cacheOptions, capturingLogger, sampleAudio, waitFor, withTempDir } from "./fixtures.js";

let dir: string;
let removeDir: () => Promise<void>;
const opened: AudioCache[] = [];

beforeEach(async () => {
  ({ dir, remove: removeDir } = await withTempDir());
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
  await removeDir();
});

async function open(overrides: Partial<AudioCacheOptions> = {}, logger = capturingLogger().logger): Promise<AudioCache> {
  const cache = await openAudioCache(cacheOptions(logger, { dir, ...overrides }));
  opened.push(cache);
  return cache;
}

/** Stores through one cache object, then closes it, as a process that exits. */
async function storeAndClose(key: string, size: number, overrides: Partial<AudioCacheOptions> = {}): Promise<void> {
  const cache = await open(overrides);
  cache.put(key, sampleAudio(size));
  await cache.flush();
  await cache.close();
}

const diskStats = (cache: AudioCache) => cache.stats().tiers.find((tier) => tier.tier === "disk");

describe("disk tier", () => {
  it("survives a restart: a new cache object over the same directory serves the entry", async () => {
    await storeAndClose("k1", 100_000);

    const restarted = await open();
    const hit = await restarted.get("k1");
    expect(hit).toMatchObject({ cached: true, tier: "disk" });
    expect(hit?.audio).toEqual(sampleAudio(100_000));
    expect((await restarted.get("k1"))?.tier).toBe("memory"); // promoted
    expect(diskStats(restarted)).toMatchObject({ entries: 1, hits: 1, misses: 0, available: true });
  });

  it.each([
    ["truncated", (path: string) => truncate(path, 50)],
    ["overwritten with other bytes", async (path: string) => writeFile(path, Buffer.alloc((await readFile(path)).length, 1))],
  ])("treats a %s file as a miss and removes it", async (_damage, damage) => {
    await storeAndClose("k1", 10_000);
    const { logger, lines } = capturingLogger();
    const restarted = await open({}, logger);
    const info = await cacache.get.info(dir, "k1");
    expect(info).not.toBeNull();
    await damage(info!.path);

    expect(await restarted.get("k1")).toBeUndefined();
    await restarted.flush();
    expect(diskStats(restarted)).toMatchObject({ entries: 0, sizeBytes: 0, misses: 1, errors: 1 });
    await expect(access(info!.path)).rejects.toThrow(/ENOENT/);
    expect(await cacache.get.info(dir, "k1")).toBeNull();
    expect(lines.filter((line) => line.level >= WARN && line.tier === "disk")).toHaveLength(1);
  });

  it("drops damaged content and crash leftovers when it opens", async () => {
    await storeAndClose("k1", 10_000);
    const info = await cacache.get.info(dir, "k1");
    await truncate(info!.path, 50);
    await mkdir(join(dir, "tmp"), { recursive: true });
    await writeFile(join(dir, "tmp", "half-written"), "partial");

    const restarted = await open();
    expect(await restarted.get("k1")).toBeUndefined();
    await expect(access(join(dir, "tmp"))).rejects.toThrow(/ENOENT/);
    expect(await cacache.ls(dir)).toEqual({});
  });

  it("does not serve entries past their TTL after a restart, and deletes them", async () => {
    await storeAndClose("k1", 1000, { ttlSeconds: 0.2 });
    await sleep(300);
    const restarted = await open({ ttlSeconds: 0.2 });
    expect(await cacache.ls(dir)).toEqual({}); // deleted while opening, not left for a lookup to find
    expect(await restarted.get("k1")).toBeUndefined();
    expect(diskStats(restarted)).toMatchObject({ entries: 0, evictions: 1 });
  });

  it("deletes an expired entry's files without a lookup, and stops counting it", async () => {
    const cache = await open({ ttlSeconds: 0.2 });
    cache.put("k1", sampleAudio(1000));
    await cache.flush();
    expect(Object.keys(await cacache.ls(dir))).toEqual(["k1"]);
    await waitFor(async () => Object.keys(await cacache.ls(dir)).length === 0, 5000);
    expect(diskStats(cache)).toMatchObject({ entries: 0, sizeBytes: 0, evictions: 1 });
  });

  it("expires entries while running", async () => {
    const cache = await open({ ttlSeconds: 0.2 });
    cache.put("k1", sampleAudio(1000));
    await cache.flush();
    await sleep(300);
    expect(await cache.get("k1")).toBeUndefined();
    await cache.flush();
    expect(diskStats(cache)).toMatchObject({ entries: 0, evictions: 1 });
    expect(await cacache.ls(dir)).toEqual({});
  });

  it("keeps its files within the byte budget, counting evictions", async () => {
    const cache = await open({ sizeBytes: 50_000 });
    for (let i = 0; i < 10; i++) cache.put(`k${i}`, sampleAudio(10_000, i));
    await cache.flush();
    const disk = diskStats(cache);
    expect(disk?.entries).toBe(4);
    expect(disk?.evictions).toBe(6);
    expect(disk?.sizeBytes).toBeLessThanOrEqual(50_000);
    const onDisk = Object.values(await cacache.ls(dir));
    expect(onDisk).toHaveLength(4); // which four depends on the order the concurrent writes finished
    const contentBytes = await Promise.all(onDisk.map(async (entry) => (await readFile(entry.path)).length));
    expect(contentBytes.reduce((sum, size) => sum + size, 0)).toBe(disk?.sizeBytes);
  });

  it("replacing an entry leaves one copy on disk", async () => {
    const cache = await open();
    cache.put("k1", sampleAudio(1000, 1));
    await cache.flush();
    const first = await cacache.get.info(dir, "k1");
    cache.put("k1", sampleAudio(1000, 2));
    await cache.flush();
    await expect(access(first!.path)).rejects.toThrow(/ENOENT/);
    await cache.close();

    const restarted = await open();
    expect((await restarted.get("k1"))?.audio.bytes[0]).toBe(2);
  });

  it("clear removes every entry and its files", async () => {
    const cache = await open();
    cache.put("k1", sampleAudio(1000));
    cache.put("k2", sampleAudio(2000));
    await cache.flush();
    const removed = await cache.clear();
    expect(removed.entriesRemoved).toBe(4); // two in memory, two on disk
    expect(await cacache.ls(dir)).toEqual({});
    expect(diskStats(cache)).toMatchObject({ entries: 0, sizeBytes: 0 });
    await cache.close();
    expect(await (await open()).get("k1")).toBeUndefined();
  });
});

describe("a cache directory that cannot be used at start", () => {
  const ERROR = 50;

  /** Opens over `cacheDir`, checks the cache still answers from memory, and returns the disk tier's stats and the error lines. */
  async function openOver(cacheDir: string) {
    const { logger, lines } = capturingLogger();
    const cache = await open({ dir: cacheDir }, logger);
    cache.put("k1", sampleAudio(1000));
    await cache.flush();
    expect((await cache.get("k1"))?.tier).toBe("memory");
    expect(await cache.get("k2")).toBeUndefined();
    return { disk: diskStats(cache), errors: lines.filter((line) => line.level >= WARN) };
  }

  it("is read-only: the cache serves from memory, the disk tier is unavailable, and one error line names the directory", async () => {
    await storeAndClose("stored-before", 1000); // a directory with content, as after a restart
    const unwritable = await makeUnwritable(dir);
    try {
      const { disk, errors } = await openOver(dir);
      expect(disk).toEqual({ ...UNAVAILABLE_DISK, misses: 1 });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ level: ERROR, tier: "disk", dir });
      expect(errors[0]!.msg).toContain(dir);
      expect(errors[0]!.msg).toContain(unwritable.code);
    } finally {
      await unwritable.restore();
    }
  });

  it("is a path under a regular file: the same", async () => {
    await writeFile(join(dir, "a-file"), "not a directory");
    const cacheDir = join(dir, "a-file", "cache");
    const { disk, errors } = await openOver(cacheDir);
    expect(disk).toEqual({ ...UNAVAILABLE_DISK, misses: 1 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ level: ERROR, tier: "disk", dir: cacheDir });
    expect(errors[0]!.msg).toContain("ENOTDIR");
  });

  it("is missing under a parent it cannot write to: the same", async () => {
    const parent = join(dir, "parent");
    await mkdir(parent);
    const unwritable = await makeUnwritable(parent);
    try {
      const { disk, errors } = await openOver(join(parent, "cache"));
      expect(disk).toEqual({ ...UNAVAILABLE_DISK, misses: 1 });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ level: ERROR, tier: "disk", dir: join(parent, "cache") });
    } finally {
      await unwritable.restore();
    }
  });

  it("stays unavailable after the directory becomes usable, until the cache is opened again", async () => {
    const unwritable = await makeUnwritable(dir);
    const cache = await open();
    await unwritable.restore();
    cache.put("k1", sampleAudio(1000));
    await cache.flush();
    expect(await cacache.ls(dir)).toEqual({}); // stores were dropped, not written
    expect(diskStats(cache)).toMatchObject({ available: false });
    await cache.close();

    const reopened = await open();
    expect(diskStats(reopened)).toMatchObject({ available: true, errors: 0 });
  });
});

/** The disk tier's stats when its directory could not be opened: the failed open is its one error. */
const UNAVAILABLE_DISK = {
  tier: "disk",
  hits: 0,
  misses: 0,
  hitRate: 0,
  entries: 0,
  sizeBytes: 0,
  evictions: 0,
  errors: 1,
  available: false,
  sizeAgeSeconds: 0,
};
