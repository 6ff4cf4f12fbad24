/*
 * Why cacache: it is npm's own on-disk cache, so it is heavily used and kept
 * up. Content is written to a temp file and renamed into place, and every
 * read is checked against its SHA-512 integrity, so a crash mid-write or a
 * damaged file can never be served. `verify` sweeps what a crash leaves
 * behind (temp files, content without an index entry, content failing its
 * check). It has no size or age limits, so an lru-cache index over its
 * entries, rebuilt from `cacache.ls` at open, does the eviction. An embedded
 * store such as LMDB was passed over: a native addon with no eviction
 * either, and a fixed map size to tune.
 *
 * One process per directory: the index lives in this process's memory.
 *
 * A directory that cannot be opened at start (read-only, not writable, not a directory)
 * leaves the service without a disk tier until restart: the index is rebuilt only at
 * open, and the sweep that rebuild needs would race live writes if it ran later. Failures
 * after a good open (disk full, remounted read-only) keep the index and recover with the
 * next write that succeeds.
 */
import cacache from "cacache";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import { decodeEntry, encodeEntry } from "./codec.js";
import { remainingTtlMs, staleSweepIntervalMs, type CacheEntry } from "./entry.js";
import { FailureLog } from "./failure-log.js";
import type { LowerTier } from "./lower-tier.js";
import { TierCounters, type CacheClearResult, type CacheTierStats } from "./stats.js";
import { UnavailableTier } from "./unavailable-tier.js";

declare module "cacache" {
  namespace rm {
    // cacache accepts this option; @types/cacache does not list it yet.
    function entry(cachePath: string, key: string, opts: { removeFully: boolean }): Promise<unknown>;
  }
}

export interface DiskTierOptions {
  dir: string;
  sizeBytes: number;
  maxEntries: number;
  ttlMs: number;
  logger: Logger;
}

/** Where an entry's bytes are in cacache, and how many there are. */
interface DiskRecord {
  integrity: string;
  size: number;
}

export class DiskTier implements LowerTier {
  readonly name = "disk";
  readonly #dir: string;
  readonly #sizeBytes: number;
  readonly #ttlMs: number;
  readonly #logger: Logger;
  readonly #counters = new TierCounters();
  readonly #failures: FailureLog;
  readonly #index: LRUCache<string, DiskRecord>;
  readonly #staleSweep: NodeJS.Timeout;
  /** The last pending file operation per key; chaining keeps each key's writes and removals in order. */
  readonly #queues = new Map<string, Promise<void>>();

  private constructor(options: DiskTierOptions) {
    this.#dir = options.dir;
    this.#sizeBytes = options.sizeBytes;
    this.#ttlMs = options.ttlMs;
    this.#logger = options.logger;
    this.#failures = new FailureLog(options.logger, this.name);
    this.#index = new LRUCache<string, DiskRecord>({
      max: options.maxEntries,
      maxSize: options.sizeBytes,
      ttl: options.ttlMs,
      sizeCalculation: (record) => record.size,
      dispose: (record, key, reason) => {
        if (reason === "evict" || reason === "expire") this.#counters.evictions++;
        void this.#enqueue(key, () => this.#removeFiles(key, record));
      },
    });
    // Also deletes the expired entries' files, which would otherwise stay until touched.
    this.#staleSweep = setInterval(() => this.#index.purgeStale(), staleSweepIntervalMs(options.ttlMs)).unref();
  }

  /**
   * Opens the cache directory, sweeping crash leftovers and expired entries. A directory
   * that cannot be opened gives an unavailable tier and one error log line naming it.
   */
  static async open(options: DiskTierOptions): Promise<LowerTier> {
    const tier = new DiskTier(options);
    try {
      await tier.#load();
      return tier;
    } catch (error) {
      await tier.close();
      const problem = error instanceof Error ? error.message : String(error);
      options.logger.error(
        { err: error, tier: tier.name, dir: options.dir },
        `disk cache tier unavailable until restart: CACHE_DIR ${options.dir} cannot be used (${problem}); serving without it`,
      );
      return new UnavailableTier(tier.name);
    }
  }

  async #load(): Promise<void> {
    // Costs one read of the whole cache at start, bounded by sizeBytes.
    await cacache.verify(this.#dir);
    const entries = Object.values(await cacache.ls(this.#dir))
      .map((entry) => ({ ...entry, storedAt: storedAtOf(entry) }))
      .sort((a, b) => a.storedAt - b.storedAt); // oldest first, so the budget evicts the oldest
    for (const entry of entries) {
      const record = { integrity: entry.integrity, size: entry.size ?? 0 };
      const ttl = remainingTtlMs(entry.storedAt, this.#ttlMs);
      if (ttl > 0 && record.size > 0) {
        this.#index.set(entry.key, record, { ttl });
      } else {
        this.#counters.evictions++;
        void this.#enqueue(entry.key, () => this.#removeFiles(entry.key, record));
      }
    }
    await this.flush();
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const record = this.#index.get(key);
    if (!record) {
      this.#counters.misses++;
      return undefined;
    }
    try {
      // By digest: the index is already in memory, and cacache checks size and integrity.
      const data = await cacache.get.byDigest(this.#dir, record.integrity, { size: record.size });
      const entry = decodeEntry(key, data);
      this.#counters.hits++;
      return entry;
    } catch (error) {
      this.#counters.misses++;
      this.#counters.errors++;
      this.#logger.warn({ err: error, tier: this.name, key }, "unreadable disk cache entry removed");
      // Unless a concurrent put already replaced it, drop it; dispose removes the files.
      if (this.#index.peek(key, { allowStale: true })?.integrity === record.integrity) this.#index.delete(key);
      return undefined;
    }
  }

  put(key: string, entry: CacheEntry): Promise<void> {
    return this.#enqueue(key, async () => {
      const ttl = remainingTtlMs(entry.storedAt, this.#ttlMs);
      const data = encodeEntry(key, entry);
      if (ttl <= 0 || data.length > this.#sizeBytes) return;
      const integrity = await cacache.put(this.#dir, key, data, { metadata: { storedAt: entry.storedAt } });
      const previous = this.#index.peek(key, { allowStale: true });
      // noDisposeOnSet: the old record's files are handled here, not by a removal of the key.
      this.#index.set(key, { integrity, size: data.length }, { ttl, noDisposeOnSet: true });
      if (previous && previous.integrity !== integrity) await cacache.rm.content(this.#dir, previous.integrity);
    });
  }

  async clear(): Promise<CacheClearResult> {
    await this.flush();
    this.#index.purgeStale();
    const removed = { entriesRemoved: this.#index.size, bytesRemoved: this.#index.calculatedSize };
    this.#index.clear(); // dispose queues each entry's removal
    await this.flush();
    this.#counters.reset();
    return removed;
  }

  stats(): CacheTierStats {
    return this.#counters.snapshot(this.name, {
      entries: this.#index.size,
      sizeBytes: this.#index.calculatedSize,
      available: !this.#failures.failing,
    });
  }

  async flush(): Promise<void> {
    while (this.#queues.size > 0) await Promise.all(this.#queues.values());
  }

  close(): Promise<void> {
    clearInterval(this.#staleSweep);
    return this.flush();
  }

  /** Deletes an evicted or expired record's files, unless the key was stored again meanwhile. */
  async #removeFiles(key: string, record: DiskRecord): Promise<void> {
    const current = this.#index.peek(key, { allowStale: true });
    if (!current) await cacache.rm.entry(this.#dir, key, { removeFully: true });
    if (current?.integrity !== record.integrity) await cacache.rm.content(this.#dir, record.integrity);
  }

  /** Runs `operation` after the key's pending ones; never rejects, failures are counted and logged. */
  #enqueue(key: string, operation: () => Promise<void>): Promise<void> {
    const queued = (this.#queues.get(key) ?? Promise.resolve()).then(operation).then(
      () => this.#failures.recover(),
      (error: unknown) => {
        this.#counters.errors++;
        this.#failures.fail(error);
      },
    );
    this.#queues.set(key, queued);
    void queued.then(() => {
      if (this.#queues.get(key) === queued) this.#queues.delete(key);
    });
    return queued;
  }
}

function storedAtOf(entry: cacache.CacheObject): number {
  const storedAt: unknown = entry.metadata?.storedAt;
  return typeof storedAt === "number" ? storedAt : entry.time;
}
