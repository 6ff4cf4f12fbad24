// The real service started over a CACHE_DIR it cannot write to (a read-only file system
// as root, else a directory without write permission): it starts, serves, caches in
// memory, says once in the log which directory failed and why, and reports the disk tier
// unavailable in GetCacheStats.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeUnwritable, type UnwritableDir } from "../support/unwritable-dir.js";
import { cacheStats, startCachedServer, tempDir, type CachedServer } from "./support.js";

let running: CachedServer;
let unwritable: UnwritableDir;
let remove: () => Promise<void>;

beforeAll(async () => {
  let dir: string;
  ({ dir, remove } = await tempDir());
  unwritable = await makeUnwritable(dir);
  running = await startCachedServer(dir);
});

afterAll(async () => {
  await running?.app.close();
  await unwritable?.restore();
  await remove?.();
});

describe("a CACHE_DIR that cannot be written at start", () => {
  it("serves, caching in memory, and reports the disk tier unavailable", async () => {
    const text = "Served without a disk cache.";
    expect((await running.grpc.synthesize({ text })).cached).toBe(false);
    expect((await running.grpc.synthesize({ text })).cached).toBe(true);
    const stats = await cacheStats(running.grpc);
    expect(stats.tierNames).toEqual(["memory", "disk"]);
    expect(stats.disk).toMatchObject({ available: false, entries: 0, errors: 1, misses: 1 });
    expect(stats.memory).toMatchObject({ available: true, entries: 1, hits: 1 });
  });

  it("logs it once, as one JSON line naming the directory and the problem", () => {
    const lines = running.logLines.filter((line) => line.tier === "disk");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, dir: running.cacheDir });
    expect(lines[0]!.msg).toContain(running.cacheDir);
    expect(lines[0]!.msg).toContain(unwritable.code);
  });
});
