import type { Logger } from "pino";
import { DiskTier } from "./disk-tier.js";
import type { CacheEntry, CachedAudio } from "./entry.js";
import type { LowerTier } from "./lower-tier.js";
import { MemoryTier } from "./memory-tier.js";
import { RedisTier } from "./redis-tier.js";
import { TierCounters, type CacheClearResult, type CacheStats, type CacheTierName, type CacheTierStats } from "./stats.js";

/** Parsed configuration; the cache never reads the environment itself. */
export interface AudioCacheOptions {
  /** CACHE_ENABLED. When false the cache always misses and stores nothing. */
  enabled: boolean;
  /** CACHE_SIZE_MB in bytes: the budget of the memory tier and, separately, of the disk tier. */
  sizeBytes: number;
  /** CACHE_MAX_ENTRIES, per tier. */
  maxEntries: number;
  /** CACHE_TTL_SECONDS, counted from the first store, in every tier. */
  ttlSeconds: number;
  /** CACHE_DIR. Without it there is no disk tier. */
  dir?: string;
  /** REDIS_URL. Without it there is no Redis tier. */
  redisUrl?: string;
  /** REDIS_SIZE_REFRESH_SECONDS: how often the Redis tier's entries and bytes are estimated. */
  redisSizeRefreshSeconds?: number;
  /** Prefix of this service's Redis keys. */
  keyPrefix?: string;
  logger: Logger;
}

export const DEFAULT_KEY_PREFIX = "aetheros:tts:audio:";
/** The default of REDIS_SIZE_REFRESH_SECONDS, for callers without a Config. */
const DEFAULT_REDIS_SIZE_REFRESH_SECONDS = 30;

export interface CacheHit {
  cached: true;
  tier: CacheTierName;
  audio: CachedAudio;
}

export interface CacheMiss {
  cached: false;
  audio: CachedAudio;
}

export type CacheResult = CacheHit | CacheMiss;

export interface AudioCache {
  /** Looks up memory, then disk, then Redis; a hit below memory is copied into the tiers above it. */
  get(key: string): Promise<CacheHit | undefined>;
  /** Stores in memory now and in the lower tiers in the background (see flush). */
  put(key: string, audio: CachedAudio): void;
  /**
   * A lookup that, on a miss, runs `produce` and stores its result. Concurrent
   * calls with one key share a single lookup and a single `produce`; a
   * failure reaches every waiter and is not cached.
   */
  getOrCreate(key: string, produce: () => Promise<CachedAudio>): Promise<CacheResult>;
  /**
   * From counters the tiers keep as they work and, for Redis, its last periodic size
   * estimate: never waits on the disk or on Redis, so health checks and metrics stay
   * cheap whatever the cache holds and whatever state Redis is in.
   */
  stats(): CacheStats;
  /** Empties every tier (in Redis only this service's keys) and restarts the counters. */
  clear(): Promise<CacheClearResult>;
  /** Resolves once the lower tiers' background writes have settled. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Builds the cache the options describe; opening the disk tier reads its index. */
export async function openAudioCache(options: AudioCacheOptions): Promise<AudioCache> {
  if (!options.enabled) return new DisabledAudioCache();
  const limits = validateLimits(options);
  const lowerTiers: LowerTier[] = [];
  if (options.dir) lowerTiers.push(await DiskTier.open({ ...limits, dir: options.dir, logger: options.logger }));
  if (options.redisUrl) {
    lowerTiers.push(
      await RedisTier.open({
        url: options.redisUrl,
        keyPrefix: options.keyPrefix ?? DEFAULT_KEY_PREFIX,
        ttlMs: limits.ttlMs,
        sizeRefreshMs: (options.redisSizeRefreshSeconds ?? DEFAULT_REDIS_SIZE_REFRESH_SECONDS) * 1000,
        logger: options.logger,
      }),
    );
  }
  return new TieredAudioCache(new MemoryTier(limits), lowerTiers);
}

function validateLimits(options: AudioCacheOptions): { sizeBytes: number; maxEntries: number; ttlMs: number } {
  const { sizeBytes, maxEntries, ttlSeconds } = options;
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0)
    throw new RangeError(`cache sizeBytes must be a positive integer, got ${sizeBytes}`);
  if (!Number.isSafeInteger(maxEntries) || maxEntries <= 0)
    throw new RangeError(`cache maxEntries must be a positive integer, got ${maxEntries}`);
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`cache ttlSeconds must be positive, got ${ttlSeconds}`);
  return { sizeBytes, maxEntries, ttlMs: ttlSeconds * 1000 };
}

class TieredAudioCache implements AudioCache {
  readonly #memory: MemoryTier;
  /** In lookup order. */
  readonly #lowerTiers: LowerTier[];
  /** Lookups as a whole: a hit when any tier answered. */
  readonly #totals = new TierCounters();
  readonly #inFlight = new Map<string, Promise<CacheResult>>();

  constructor(memory: MemoryTier, lowerTiers: LowerTier[]) {
    this.#memory = memory;
    this.#lowerTiers = lowerTiers;
  }

  async get(key: string): Promise<CacheHit | undefined> {
    const inMemory = this.#memory.get(key);
    if (inMemory) return this.#hit("memory", inMemory);
    for (const [depth, tier] of this.#lowerTiers.entries()) {
      const entry = await tier.get(key);
      if (!entry) continue;
      this.#memory.set(key, entry);
      for (const upper of this.#lowerTiers.slice(0, depth)) void upper.put(key, entry);
      return this.#hit(tier.name, entry);
    }
    this.#totals.misses++;
    return undefined;
  }

  put(key: string, audio: CachedAudio): void {
    const entry: CacheEntry = { audio, storedAt: Date.now() };
    this.#memory.set(key, entry);
    for (const tier of this.#lowerTiers) void tier.put(key, entry);
  }

  getOrCreate(key: string, produce: () => Promise<CachedAudio>): Promise<CacheResult> {
    const running = this.#inFlight.get(key);
    if (running) return running;
    const result = this.#lookupOrProduce(key, produce).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, result);
    return result;
  }

  stats(): CacheStats {
    const tiers = [this.#memory.stats(), ...this.#lowerTiers.map((tier) => tier.stats())];
    const sum = (field: "entries" | "sizeBytes" | "evictions" | "errors"): number => tiers.reduce((total, tier) => total + tier[field], 0);
    const usage = {
      entries: sum("entries"),
      sizeBytes: sum("sizeBytes"),
      available: true,
      sizeAgeSeconds: Math.max(...tiers.map((tier) => tier.sizeAgeSeconds)),
    };
    const total: CacheTierStats = { ...this.#totals.snapshot("total", usage), evictions: sum("evictions"), errors: sum("errors") };
    return { enabled: true, total, tiers };
  }

  async clear(): Promise<CacheClearResult> {
    const results = [this.#memory.clear(), ...(await Promise.all(this.#lowerTiers.map((tier) => tier.clear())))];
    this.#totals.reset();
    return {
      entriesRemoved: results.reduce((total, result) => total + result.entriesRemoved, 0),
      bytesRemoved: results.reduce((total, result) => total + result.bytesRemoved, 0),
    };
  }

  async flush(): Promise<void> {
    await Promise.all(this.#lowerTiers.map((tier) => tier.flush()));
  }

  async close(): Promise<void> {
    this.#memory.close();
    await Promise.all(this.#lowerTiers.map((tier) => tier.close()));
  }

  async #lookupOrProduce(key: string, produce: () => Promise<CachedAudio>): Promise<CacheResult> {
    const hit = await this.get(key);
    if (hit) return hit;
    const audio = await produce();
    this.put(key, audio);
    return { cached: false, audio };
  }

  #hit(tier: CacheTierName, entry: CacheEntry): CacheHit {
    this.#totals.hits++;
    return { cached: true, tier, audio: entry.audio };
  }
}

/** CACHE_ENABLED=false: the same interface, so callers keep one code path. */
class DisabledAudioCache implements AudioCache {
  async get(): Promise<undefined> {
    return undefined;
  }

  put(): void {}

  async getOrCreate(_key: string, produce: () => Promise<CachedAudio>): Promise<CacheMiss> {
    return { cached: false, audio: await produce() };
  }

  stats(): CacheStats {
    const total = new TierCounters().snapshot("total", { entries: 0, sizeBytes: 0, available: false });
    return { enabled: false, total, tiers: [] };
  }

  async clear(): Promise<CacheClearResult> {
    return { entriesRemoved: 0, bytesRemoved: 0 };
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
