// GetCacheStats and ClearCache against the real service: the counters after a known
// sequence of calls, ClearCache emptying every tier, and both over plain HTTP with
// Connect's JSON (POST, and GET for the NO_SIDE_EFFECTS GetCacheStats).

import { createClient } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { startServer, type RunningServer } from "../server/running-server.js";
import { cacheStats, grpcTransport, startCachedServer, tempDir, waitForEntries, type CachedServer } from "./support.js";

const servers: RunningServer[] = [];
const dirs: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.app.close();
  await Promise.all(dirs.splice(0).map((remove) => remove()));
});

async function start(): Promise<CachedServer> {
  const { dir, remove } = await tempDir();
  dirs.push(remove);
  const running = await startCachedServer(dir);
  servers.push(running);
  return running;
}

const A = "Alpha is the first phrase.";
const B = "Bravo is the second phrase.";

/** Two misses, three hits, and calls with use_cache=false, which count as neither. */
async function knownSequence(running: CachedServer): Promise<{ sizes: number[] }> {
  const a = await running.grpc.synthesize({ text: A });
  const b = await running.connect.synthesize({ text: B });
  expect([a.cached, b.cached]).toEqual([false, false]);
  await running.grpc.synthesize({ text: A, config: { useCache: false } });
  await running.grpc.synthesize({ text: "Not cached at all.", config: { useCache: false } });
  for (const text of [A, B, A]) expect((await running.grpc.synthesize({ text })).cached).toBe(true);
  return { sizes: [a.audio.length, b.audio.length] };
}

describe("GetCacheStats", () => {
  it("starts empty, then counts a known sequence of hits and misses per tier and in total", async () => {
    const running = await start();
    const empty = await cacheStats(running.grpc);
    expect(empty.enabled).toBe(true);
    expect(empty.tierNames).toEqual(["memory", "disk"]);
    for (const [tier, stats] of [
      ["total", empty.total],
      ["memory", empty.memory],
      ["disk", empty.disk],
    ] as const) {
      expect(stats).toEqual({ tier, hits: 0, misses: 0, hitRate: 0, entries: 0, sizeBytes: 0, evictions: 0, errors: 0, available: true });
    }

    const { sizes } = await knownSequence(running);
    const audioBytes = sizes[0]! + sizes[1]!;
    const stats = await waitForEntries(running.grpc, 2);
    // A lookup is a hit when any tier answered: every hit here came from memory, and only
    // the two misses went on to ask the disk.
    expect(stats.total).toMatchObject({ hits: 3, misses: 2, hitRate: 0.6, entries: 4, evictions: 0, errors: 0, available: true });
    expect(stats.memory).toMatchObject({ hits: 3, misses: 2, hitRate: 0.6, entries: 2, evictions: 0, errors: 0, available: true });
    expect(stats.disk).toMatchObject({ hits: 0, misses: 2, hitRate: 0, entries: 2, evictions: 0, errors: 0, available: true });
    // Each tier holds the audio plus a little per entry (metadata); the total adds them up.
    for (const tier of [stats.memory, stats.disk]) {
      expect(tier.sizeBytes).toBeGreaterThan(audioBytes);
      expect(tier.sizeBytes).toBeLessThan(audioBytes + 2 * 4096);
    }
    expect(stats.total.sizeBytes).toBe(stats.memory.sizeBytes + stats.disk.sizeBytes);

    // Health reports the same entry count.
    expect((await running.grpc.health({})).cacheEntries).toBe(4n);
  });

  it("reports a disabled cache with no tiers, and ClearCache on it removes nothing", async () => {
    const running = await startServer(); // CACHE_ENABLED=false
    servers.push(running);
    const client = createClient(TtsService, grpcTransport(running));
    expect((await client.synthesize({ text: A })).cached).toBe(false);
    expect((await client.synthesize({ text: A })).cached).toBe(false);
    const response = await client.getCacheStats({});
    expect(response.enabled).toBe(false);
    expect(response.tiers).toEqual([]);
    expect(response.total).toMatchObject({ hits: 0n, misses: 0n, entries: 0n, available: false });
    expect(await client.clearCache({})).toMatchObject({ entriesRemoved: 0n, bytesRemoved: 0n });
  });
});

describe("ClearCache", () => {
  it("empties every tier, reports what it removed, restarts the counters, and the next call is a miss", async () => {
    const running = await start();
    await knownSequence(running);
    const before = await waitForEntries(running.grpc, 2);

    const cleared = await running.grpc.clearCache({});
    expect(cleared.entriesRemoved).toBe(4n); // two entries, in memory and on disk
    expect(Number(cleared.bytesRemoved)).toBe(before.total.sizeBytes);
    const after = await cacheStats(running.grpc);
    for (const [tier, stats] of [
      ["total", after.total],
      ["memory", after.memory],
      ["disk", after.disk],
    ] as const) {
      expect(stats).toEqual({ tier, hits: 0, misses: 0, hitRate: 0, entries: 0, sizeBytes: 0, evictions: 0, errors: 0, available: true });
    }

    const again = await running.grpc.synthesize({ text: A });
    expect(again.cached).toBe(false);
    expect((await cacheStats(running.grpc)).disk).toMatchObject({ misses: 1, hits: 0 }); // gone from disk too
    // Nothing is left in the directory either: a new server over it starts empty but for A.
    await running.app.close();
    servers.splice(servers.indexOf(running), 1);
    const restarted = await startCachedServer(running.cacheDir);
    servers.push(restarted);
    expect((await cacheStats(restarted.grpc)).disk.entries).toBe(1);
    expect((await restarted.grpc.synthesize({ text: B })).cached).toBe(false);
    expect((await restarted.grpc.synthesize({ text: A })).cached).toBe(true);
  });
});

describe("over plain HTTP with Connect's JSON", () => {
  const post = (running: RunningServer, method: string, body: unknown = {}) =>
    fetch(`${running.baseUrl}/aetheros.tts.v1.TtsService/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("answers GetCacheStats to POST and to GET with the same counters, and ClearCache to POST only", async () => {
    const running = await start();
    await knownSequence(running);
    await waitForEntries(running.grpc, 2);
    const viaGrpc = await cacheStats(running.grpc);

    const posted = await post(running, "GetCacheStats");
    expect(posted.status).toBe(200);
    expect(posted.headers.get("content-type")).toMatch(/^application\/json/);
    const json = (await posted.json()) as { enabled: boolean; total: Record<string, unknown>; tiers: Record<string, unknown>[] };
    // Proto3 JSON: uint64 as strings, zero values left out.
    expect(json.enabled).toBe(true);
    expect(json.total).toEqual({
      tier: "total",
      hits: "3",
      misses: "2",
      hitRate: 0.6,
      entries: "4",
      sizeBytes: String(viaGrpc.total.sizeBytes),
      available: true,
    });
    expect(json.tiers.map((tier) => [tier.tier, tier.hits, tier.misses, tier.entries])).toEqual([
      ["memory", "3", "2", "2"],
      ["disk", undefined, "2", "2"],
    ]);

    const got = await fetch(
      `${running.baseUrl}/aetheros.tts.v1.TtsService/GetCacheStats?encoding=json&message=${encodeURIComponent("{}")}`,
    );
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(json); // reading the stats counts nothing

    // ClearCache has side effects: no GET.
    const clearByGet = await fetch(
      `${running.baseUrl}/aetheros.tts.v1.TtsService/ClearCache?encoding=json&message=${encodeURIComponent("{}")}`,
    );
    expect(clearByGet.ok).toBe(false);
    expect((await cacheStats(running.grpc)).total.entries).toBe(4);

    const cleared = await post(running, "ClearCache");
    expect(cleared.status).toBe(200);
    expect(await cleared.json()).toEqual({ entriesRemoved: "4", bytesRemoved: String(viaGrpc.total.sizeBytes) });
    const afterClear = (await (await post(running, "GetCacheStats")).json()) as { total: Record<string, unknown> };
    expect(afterClear.total).toEqual({ tier: "total", available: true });
  });
});
