export type CacheTierName = "memory" | "disk" | "redis";

/** One tier's activity since start or last clear; mirrors CacheTierStats in tts.proto. */
export interface CacheTierStats {
  tier: CacheTierName | "total";
  hits: number;
  misses: number;
  /** hits / (hits + misses), 0 when there were no lookups. */
  hitRate: number;
  entries: number;
  sizeBytes: number;
  /** Entries removed to respect the size, count or age limits. */
  evictions: number;
  /** Operations that failed, for example Redis unreachable or a corrupt file. */
  errors: number;
  available: boolean;
  /**
   * Seconds since entries and sizeBytes were measured: 0 for tiers that count them as
   * they change (memory, disk); for Redis, the age of its last periodic estimate.
   */
  sizeAgeSeconds: number;
}

/** Mirrors GetCacheStatsResponse in tts.proto. */
export interface CacheStats {
  enabled: boolean;
  /** A lookup is a hit when any tier answered. Entries and bytes add up every tier's copies. */
  total: CacheTierStats;
  tiers: CacheTierStats[];
}

/** Mirrors ClearCacheResponse in tts.proto. */
export interface CacheClearResult {
  entriesRemoved: number;
  bytesRemoved: number;
}

export interface TierUsage {
  entries: number;
  sizeBytes: number;
  available: boolean;
  /** Omitted when entries and sizeBytes are current. */
  sizeAgeSeconds?: number;
}

export function hitRate(hits: number, misses: number): number {
  const lookups = hits + misses;
  return lookups === 0 ? 0 : hits / lookups;
}

/** The counters every tier keeps as it works; usage (entries, bytes) comes from each tier's own bookkeeping. */
export class TierCounters {
  hits = 0;
  misses = 0;
  evictions = 0;
  errors = 0;

  reset(): void {
    this.hits = 0;
    this.misses = 0;
    this.evictions = 0;
    this.errors = 0;
  }

  snapshot(tier: CacheTierStats["tier"], usage: TierUsage): CacheTierStats {
    return {
      tier,
      hits: this.hits,
      misses: this.misses,
      hitRate: hitRate(this.hits, this.misses),
      entries: usage.entries,
      sizeBytes: usage.sizeBytes,
      evictions: this.evictions,
      errors: this.errors,
      available: usage.available,
      sizeAgeSeconds: usage.sizeAgeSeconds ?? 0,
    };
  }
}
