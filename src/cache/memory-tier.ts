import { LRUCache } from "lru-cache";
import { remainingTtlMs, staleSweepIntervalMs, type CacheEntry } from "./entry.js";
import { TierCounters, type CacheClearResult, type CacheTierStats } from "./stats.js";

/** Rough cost of an entry beyond its audio bytes: the metadata object and the map slot. */
const ENTRY_OVERHEAD_BYTES = 512;

export interface MemoryTierOptions {
  sizeBytes: number;
  maxEntries: number;
  ttlMs: number;
}

/** In-process tier: decoded entries in an LRU bounded by bytes, count and age. */
export class MemoryTier {
  readonly name = "memory";
  readonly #counters = new TierCounters();
  readonly #ttlMs: number;
  readonly #entries: LRUCache<string, CacheEntry>;
  readonly #staleSweep: NodeJS.Timeout;

  constructor(options: MemoryTierOptions) {
    this.#ttlMs = options.ttlMs;
    this.#entries = new LRUCache<string, CacheEntry>({
      max: options.maxEntries,
      maxSize: options.sizeBytes,
      ttl: options.ttlMs,
      sizeCalculation: (entry) => entry.audio.bytes.byteLength + ENTRY_OVERHEAD_BYTES,
      dispose: (_entry, _key, reason) => {
        if (reason === "evict" || reason === "expire") this.#counters.evictions++;
      },
    });
    this.#staleSweep = setInterval(() => this.#entries.purgeStale(), staleSweepIntervalMs(options.ttlMs)).unref();
  }

  get(key: string): CacheEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry) this.#counters.hits++;
    else this.#counters.misses++;
    return entry;
  }

  set(key: string, entry: CacheEntry): void {
    const ttl = remainingTtlMs(entry.storedAt, this.#ttlMs);
    if (ttl > 0) this.#entries.set(key, entry, { ttl });
  }

  clear(): CacheClearResult {
    this.#entries.purgeStale();
    const removed = { entriesRemoved: this.#entries.size, bytesRemoved: this.#entries.calculatedSize };
    this.#entries.clear();
    this.#counters.reset();
    return removed;
  }

  stats(): CacheTierStats {
    return this.#counters.snapshot(this.name, {
      entries: this.#entries.size,
      sizeBytes: this.#entries.calculatedSize,
      available: true,
    });
  }

  close(): void {
    clearInterval(this.#staleSweep);
  }
}
