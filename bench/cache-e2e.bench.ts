/*
 * End-to-end latency of a unary Synthesize served from the cache, next to the same
 * phrase synthesized: the real service in-process (engine, voice, cache over a temporary
 * CACHE_DIR), called over loopback gRPC (HTTP/2) by a Connect gRPC client. Not a test; run with
 *   npx tsx bench/cache-e2e.bench.ts
 * The machine's load shows in the figures: compare runs on the same machine only.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { TtsService } from "../gen/aetheros/tts/v1/tts_pb.js";
import { loadConfig } from "../src/config/config.js";
import { createApp } from "../src/server/app.js";

const HIT_CALLS = 200;
const HIT_WARMUP_CALLS = 50;
const UNCACHED_CALLS = 10;
const TEXT = "The quick brown fox jumps over the lazy dog, and the cache remembers how it sounded.";

const cacheDir = await mkdtemp(join(tmpdir(), "aetheros-cache-e2e-bench-"));
const config = loadConfig({
  ...process.env,
  SERVICE_HOST: "127.0.0.1",
  SERVICE_PORT: "0",
  CACHE_ENABLED: "true",
  CACHE_DIR: cacheDir,
  LOG_LEVEL: "silent",
});
const app = await createApp(config, pino({ level: "silent" }));
const port = await app.listen();
await app.ready();
const client = createClient(TtsService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));

async function timed(useCache: boolean, expectCached: boolean): Promise<{ ms: number; serverMs: number; bytes: number }> {
  const started = performance.now();
  const response = await client.synthesize({ text: TEXT, config: { useCache } });
  const ms = performance.now() - started;
  if (response.cached !== expectCached) throw new Error(`expected cached=${expectCached}, got ${response.cached}`);
  return { ms, serverMs: response.generationTimeMs, bytes: response.audio.length };
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const summary = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), min: sorted[0]!, max: sorted.at(-1)! };
};
const ms = (value: number): string => `${value.toFixed(2)} ms`;

try {
  // Uncached: use_cache=false synthesizes every time (the first call also warms the connection).
  await timed(false, false);
  const uncached = [];
  for (let i = 0; i < UNCACHED_CALLS; i++) uncached.push(await timed(false, false));

  // Cached: one call stores the phrase, then memory hits.
  const first = await timed(true, false);
  for (let i = 0; i < HIT_WARMUP_CALLS; i++) await timed(true, true);
  const hits = [];
  for (let i = 0; i < HIT_CALLS; i++) hits.push(await timed(true, true));

  const u = summary(uncached.map((s) => s.ms));
  const h = summary(hits.map((s) => s.ms));
  const hServer = summary(hits.map((s) => s.serverMs));
  const uServer = summary(uncached.map((s) => s.serverMs));
  console.log(`unary Synthesize over loopback gRPC, ${first.bytes} byte WAV, ${TEXT.length} characters`);
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} on this machine`,
  );
  console.log(
    `  uncached (${UNCACHED_CALLS} calls): median ${ms(u.median)}  min ${ms(u.min)}  max ${ms(u.max)}  (server generation_time_ms median ${ms(uServer.median)})`,
  );
  console.log(
    `  cache hit (${HIT_CALLS} calls after ${HIT_WARMUP_CALLS} warm-up): median ${ms(h.median)}  p95 ${ms(h.p95)}  min ${ms(h.min)}  max ${ms(h.max)}  (server generation_time_ms median ${ms(hServer.median)})`,
  );
  console.log(`  median uncached / median hit: ${(u.median / h.median).toFixed(0)}x`);
} finally {
  await app.close();
  await rm(cacheDir, { recursive: true, force: true });
}
