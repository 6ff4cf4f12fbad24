import type { LowerTier } from "./lower-tier.js";
import { TierCounters, type CacheClearResult, type CacheTierStats } from "./stats.js";

/**
 * A lower tier that could not be opened at start (for example a read-only CACHE_DIR):
 * every lookup misses, stores are dropped, and its stats report it unavailable, with
 * the failed open as its one error. It stays so until the process restarts.
 */
export class UnavailableTier implements LowerTier {
  readonly name: LowerTier["name"];
  readonly #counters = new TierCounters();

  constructor(name: LowerTier["name"]) {
    this.name = name;
    this.#counters.errors = 1;
  }

  async get(): Promise<undefined> {
    this.#counters.misses++;
    return undefined;
  }

  async put(): Promise<void> {}

  async clear(): Promise<CacheClearResult> {
    this.#counters.reset();
    return { entriesRemoved: 0, bytesRemoved: 0 };
  }

  stats(): CacheTierStats {
    return this.#counters.snapshot(this.name, { entries: 0, sizeBytes: 0, available: false });
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
