/*
 * In-process lookup time of a memory hit: 10,000 lookups of one 100 KB
 * entry through the public AudioCache.get. Not a test; run with
 *   npx tsx bench/cache.bench.ts
 */
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { cacheKey, openAudioCache, type CachedAudio } from "../src/cache/index.js";

const LOOKUPS = 10_000;
const WARMUP_LOOKUPS = 1_000;
const ENTRY_BYTES = 100 * 1024;

const cache = await openAudioCache({
  enabled: true,
  sizeBytes: 64 * 1024 * 1024,
  maxEntries: 10_000,
  ttlSeconds: 3600,
  logger: pino({ level: "silent" }),
});
const key = cacheKey({
  text: "The quick brown fox jumps over the lazy dog.",
  voice: "en_US-joe-medium",
  speakerId: 0,
  speed: 1,
  pitch: 1,
  volume: 1,
  peakNormalized: false,
  noiseScale: 0.667,
  noiseW: 0.8,
  sentenceSilence: 0,
  encoding: "wav",
  sampleRate: 22050,
  modelHash: "bench",
});
const audio: CachedAudio = {
  bytes: new Uint8Array(ENTRY_BYTES).fill(1),
  encoding: "wav",
  sampleRate: 22050,
  durationSeconds: ENTRY_BYTES / 44100,
  modelUsed: "piper:en_US-joe-medium",
};
cache.put(key, audio);

async function lookupOnce(): Promise<number> {
  const started = performance.now();
  const hit = await cache.get(key);
  const elapsed = performance.now() - started;
  if (hit?.tier !== "memory") throw new Error("expected a memory hit");
  return elapsed;
}

for (let i = 0; i < WARMUP_LOOKUPS; i++) await lookupOnce();
const samples: number[] = [];
for (let i = 0; i < LOOKUPS; i++) samples.push(await lookupOnce());
samples.sort((a, b) => a - b);

const at = (quantile: number): number => samples[Math.min(samples.length - 1, Math.floor(quantile * samples.length))] ?? NaN;
const micros = (ms: number): string => `${(ms * 1000).toFixed(2)} µs`;
console.log(`memory hit, ${ENTRY_BYTES / 1024} KB entry, ${LOOKUPS} lookups`);
console.log(`  median ${micros(at(0.5))}  p95 ${micros(at(0.95))}  p99 ${micros(at(0.99))}  max ${micros(at(1))}`);
await cache.close();
