// Helpers for the service-level cache tests: a real server with the cache on over its
// own temporary CACHE_DIR, real clients, stream collection, stats read as numbers, and
// waiting for log lines or conditions (never for fixed times, except where a TTL is
// what is being tested).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll } from "vitest";
import {
  TtsService,
  type AudioChunk,
  type CacheTierStats,
  type GetCacheStatsResponse,
  type StreamStart,
  type StreamSummary,
  type SynthesizeStreamResponse,
} from "../../gen/aetheros/tts/v1/tts_pb.js";
import { startServer, type RunningServer } from "../server/running-server.js";

export type TtsClient = Client<typeof TtsService>;

export async function tempDir(prefix = "aetheros-cache-service-"): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface CachedServer extends RunningServer {
  readonly cacheDir: string;
  /** gRPC over HTTP/2. */
  readonly grpc: TtsClient;
  /** Connect (binary) over HTTP/2. */
  readonly connect: TtsClient;
}

/**
 * The real service with the cache on over `cacheDir` (from `tempDir`). One inference
 * worker unless `env` says otherwise: the cache does not depend on the number of workers,
 * and each worker loads and warms the 63 MB voice at start, which is most of the start
 * time on a busy two-core machine.
 */
export async function startCachedServer(cacheDir: string, env: Record<string, string> = {}): Promise<CachedServer> {
  const running = await startServer({ CACHE_ENABLED: "true", CACHE_DIR: cacheDir, MAX_CONCURRENT_REQUESTS: "1", ...env });
  return Object.assign(running, {
    cacheDir,
    grpc: createClient(TtsService, grpcTransport(running)),
    connect: createClient(TtsService, createConnectTransport({ baseUrl: running.baseUrl, httpVersion: "2", useBinaryFormat: true })),
  });
}

/**
 * A cached server over its own temporary directory for the tests of the enclosing describe
 * block (or file): started before them, closed and its directory removed after them.
 */
export function cachedServerPerSuite(env: Record<string, string> = {}): () => CachedServer {
  let running: CachedServer | undefined;
  let removeDir: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const temp = await tempDir();
    removeDir = temp.remove;
    running = await startCachedServer(temp.dir, env);
  });
  afterAll(async () => {
    await running?.app.close();
    await removeDir?.();
  });
  return () => {
    if (running === undefined) throw new Error("the suite's cached server has not started");
    return running;
  };
}

export function grpcTransport(running: RunningServer): Transport {
  return createGrpcTransport({ baseUrl: running.baseUrl });
}

/** One tier's (or the total's) stats with the uint64 counters as numbers. */
export interface TierNumbers {
  tier: string;
  hits: number;
  misses: number;
  hitRate: number;
  entries: number;
  sizeBytes: number;
  evictions: number;
  errors: number;
  available: boolean;
}

export interface StatsNumbers {
  enabled: boolean;
  total: TierNumbers;
  memory: TierNumbers;
  disk: TierNumbers;
  redis: TierNumbers | undefined;
  tierNames: string[];
}

function numbers(tier: CacheTierStats | undefined): TierNumbers {
  if (!tier) throw new Error("tier missing from GetCacheStats");
  return {
    tier: tier.tier,
    hits: Number(tier.hits),
    misses: Number(tier.misses),
    hitRate: tier.hitRate,
    entries: Number(tier.entries),
    sizeBytes: Number(tier.sizeBytes),
    evictions: Number(tier.evictions),
    errors: Number(tier.errors),
    available: tier.available,
  };
}

export function statsNumbers(response: GetCacheStatsResponse): StatsNumbers {
  const find = (name: string) => response.tiers.find((tier) => tier.tier === name);
  return {
    enabled: response.enabled,
    total: numbers(response.total),
    memory: numbers(find("memory")),
    disk: numbers(find("disk")),
    redis: find("redis") && numbers(find("redis")),
    tierNames: response.tiers.map((tier) => tier.tier),
  };
}

export async function cacheStats(client: TtsClient): Promise<StatsNumbers> {
  return statsNumbers(await client.getCacheStats({}));
}

/**
 * Stores below memory run in the background after the response is sent; this waits
 * until the disk tier (and Redis, when asked) report `entries` entries.
 */
export async function waitForEntries(client: TtsClient, entries: number, tiers: ("disk" | "redis")[] = ["disk"]): Promise<StatsNumbers> {
  let last: StatsNumbers | undefined;
  await waitUntil(
    async () => {
      last = await cacheStats(client);
      return tiers.every((tier) => last![tier]?.entries === entries);
    },
    `${tiers.join(" and ")} to hold ${entries} entries`,
  );
  return last!;
}

/** Waits until the disk tier holds as many entries as memory (no background store pending; no evictions assumed). */
export async function settledStats(client: TtsClient): Promise<StatsNumbers> {
  let last: StatsNumbers | undefined;
  await waitUntil(async () => {
    last = await cacheStats(client);
    return last.disk.entries === last.memory.entries;
  }, "the disk tier to catch up with memory");
  return last!;
}

export async function waitUntil(condition: () => Promise<boolean> | boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The first log line at or after index `since` that matches, waiting for it. */
export async function waitForLog(
  running: RunningServer,
  since: number,
  matches: (line: Record<string, unknown>) => boolean,
  what: string,
): Promise<Record<string, unknown>> {
  let found: Record<string, unknown> | undefined;
  await waitUntil(() => (found = running.logLines.slice(since).find(matches)) !== undefined, `log line: ${what}`);
  return found!;
}

export interface CollectedStream {
  start: StreamStart | undefined;
  chunks: AudioChunk[];
  summary: StreamSummary | undefined;
  /** Every chunk's bytes, concatenated. */
  audio: Buffer;
}

export async function collectStream(messages: AsyncIterable<SynthesizeStreamResponse>): Promise<CollectedStream> {
  const collected: CollectedStream = { start: undefined, chunks: [], summary: undefined, audio: Buffer.alloc(0) };
  for await (const message of messages) {
    if (message.event.case === "start") collected.start = message.event.value;
    else if (message.event.case === "chunk") collected.chunks.push(message.event.value);
    else if (message.event.case === "summary") collected.summary = message.event.value;
  }
  collected.audio = Buffer.concat(collected.chunks.map((chunk) => chunk.audio));
  return collected;
}

/** Audio bytes per sentence index, in the order the sentences were sent. */
export function bytesPerSentence(chunks: AudioChunk[]): [number, number][] {
  const totals = new Map<number, number>();
  for (const chunk of chunks) totals.set(chunk.sentenceIndex, (totals.get(chunk.sentenceIndex) ?? 0) + chunk.audio.length);
  return [...totals];
}

/** The RIFF and data chunk sizes a WAV header declares. */
export function wavSizes(audio: Uint8Array): { riff: number; data: number } {
  const view = new DataView(audio.buffer, audio.byteOffset, audio.byteLength);
  if (Buffer.from(audio.subarray(0, 4)).toString("latin1") !== "RIFF") throw new Error("not a RIFF file");
  return { riff: view.getUint32(4, true), data: view.getUint32(40, true) };
}

export const bytes = (audio: Uint8Array): Buffer => Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength);
