import type { CacheEntry } from "./entry.js";
import type { CacheClearResult, CacheTierStats } from "./stats.js";

/**
 * A tier below memory (disk, Redis). No method rejects: a failing tier
 * answers with misses, drops stores and counts the failure in its stats, so
 * the cache can never fail a request.
 */
export interface LowerTier {
  readonly name: "disk" | "redis";
  get(key: string): Promise<CacheEntry | undefined>;
  put(key: string, entry: CacheEntry): Promise<void>;
  clear(): Promise<CacheClearResult>;
  /** From what the tier keeps in this process: never waits on the disk or the network. */
  stats(): CacheTierStats;
  /** Resolves once every write and removal started so far has settled. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
