/*
 * What observability costs with a large shared cache (issue 12 item 7): Health,
 * GetCacheStats (gRPC over loopback) and GET /metrics against the real service in-process
 * with a Redis tier holding 200,000 keys, then with that redis-server stopped (SIGSTOP, so
 * its connection stays open and nothing answers, as when it hangs). Not a test; run with
 *   npx tsx bench/cache-stats.bench.ts
 * Needs redis-server on PATH (npm test's prerequisites install it) and the default voice.
 * The keys are small (256-byte values): what a size count costs grows with the number of
 * keys, not with their size. The disk tier starts full too: CACHE_MAX_ENTRIES (10,000)
 * entries stored in CACHE_DIR beforehand. Compare runs on the same machine only.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { pino } from "pino";
import { TtsService } from "../gen/aetheros/tts/v1/tts_pb.js";
import { DEFAULT_KEY_PREFIX, openAudioCache } from "../src/cache/index.js";
import { loadConfig } from "../src/config/config.js";
import { createApp } from "../src/server/app.js";

const KEYS = 200_000;
const VALUE_BYTES = 256;
const CALLS = 50;
const HUNG_CALLS = 10;

const port = await freePort();
const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
  stdio: ["ignore", "pipe", "inherit"],
});
await new Promise<void>((resolve) => {
  let output = "";
  redis.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes("Ready to accept connections")) resolve();
  });
});
const redisUrl = `redis://127.0.0.1:${port}`;
const filler = new Redis(redisUrl);
// Server-side, in batches, so filling takes a second rather than 200,000 round trips.
const fill = "for i = ARGV[1], ARGV[2] do redis.call('SET', KEYS[1] .. i, string.rep('x', tonumber(ARGV[3]))) end";
for (let start = 0; start < KEYS; start += 20_000) {
  await filler.eval(fill, 1, DEFAULT_KEY_PREFIX, start, Math.min(start + 20_000, KEYS) - 1, VALUE_BYTES);
}
filler.disconnect();

const cacheDir = await mkdtemp(join(tmpdir(), "aetheros-cache-stats-bench-"));
const config = loadConfig({
  ...process.env,
  SERVICE_HOST: "127.0.0.1",
  SERVICE_PORT: "0",
  CACHE_ENABLED: "true",
  CACHE_DIR: cacheDir,
  REDIS_URL: redisUrl,
  LOG_LEVEL: "silent",
});
const diskFiller = await openAudioCache({
  enabled: true,
  sizeBytes: config.cacheSizeMb * 1024 * 1024,
  maxEntries: config.cacheMaxEntries,
  ttlSeconds: config.cacheTtlSeconds,
  dir: cacheDir,
  logger: pino({ level: "silent" }),
});
for (let i = 0; i < config.cacheMaxEntries; i++) {
  const bytes = new Uint8Array(VALUE_BYTES).fill(i % 256);
  diskFiller.put(`bench-${i}`, { bytes, encoding: "wav", sampleRate: 22050, durationSeconds: 0.01, modelUsed: "bench" });
}
await diskFiller.flush();
await diskFiller.close();
const app = await createApp(config, pino({ level: "silent" }));
const baseUrl = `http://127.0.0.1:${await app.listen()}`;
await app.ready();
const client = createClient(TtsService, createGrpcTransport({ baseUrl }));

const calls: Record<string, () => Promise<unknown>> = {
  Health: () => client.health({}, { timeoutMs: 30_000 }),
  GetCacheStats: () => client.getCacheStats({}, { timeoutMs: 30_000 }),
  "GET /metrics": async () => {
    const response = await fetch(`${baseUrl}/metrics`);
    if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
    return response.text();
  },
};

async function timings(call: () => Promise<unknown>, count: number): Promise<{ median: number; p95: number; max: number }> {
  await call(); // the connection, warmed
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { median: at(0.5), p95: at(0.95), max: samples.at(-1)! };
}

const ms = (value: number): string => `${value.toFixed(2)} ms`;
const report = async (situation: string, count: number): Promise<void> => {
  console.log(`${situation} (${count} calls each, one at a time):`);
  for (const [name, call] of Object.entries(calls)) {
    const { median, p95, max } = await timings(call, count);
    console.log(`  ${name.padEnd(14)} median ${ms(median)}  p95 ${ms(p95)}  max ${ms(max)}`);
  }
};

try {
  const stats = await client.getCacheStats({});
  const redisTier = stats.tiers.find((tier) => tier.tier === "redis");
  const diskTier = stats.tiers.find((tier) => tier.tier === "disk");
  console.log(`Redis tier at start: ${redisTier?.entries} entries, ${redisTier?.sizeBytes} bytes (${KEYS} keys stored)`);
  console.log(`disk tier at start: ${diskTier?.entries} entries`);
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} on this machine`,
  );
  await report(`Redis holding ${KEYS.toLocaleString("en-US")} keys`, CALLS);
  redis.kill("SIGSTOP");
  await report("Redis hung (SIGSTOP)", HUNG_CALLS);
  redis.kill("SIGCONT");
} finally {
  await app.close();
  redis.kill("SIGKILL");
  await once(redis, "exit");
  await rm(cacheDir, { recursive: true, force: true });
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address === "string") throw new Error("no TCP port");
  return address.port;
}
