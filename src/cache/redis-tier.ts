/*
 * Why ioredis: maintained by Redis, it reconnects on its own with a retry
 * strategy we choose, and its offline queue can be turned off so commands
 * sent while disconnected fail at once instead of piling up in memory.
 */
import { once } from "node:events";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { decodeEntry, encodeEntry } from "./codec.js";
import { remainingTtlMs, type CacheEntry } from "./entry.js";
import { FailureLog } from "./failure-log.js";
import type { LowerTier } from "./lower-tier.js";
import { TierCounters, type CacheClearResult, type CacheTierStats } from "./stats.js";

/** A lookup on the synthesis path should not wait long on a Redis that hangs. */
const COMMAND_TIMEOUT_MS = 500;
const CONNECT_TIMEOUT_MS = 2_000;
/** Reconnect backoff cap, so a restarted Redis is used again within a second. */
const MAX_RECONNECT_DELAY_MS = 1_000;
const SCAN_BATCH = 500;
/**
 * Keys one size estimate reads at most: a database up to this size is counted exactly,
 * a larger one is sampled (about ±1% for a prefix holding half of it), at a cost that
 * does not grow with the keyspace.
 */
const SIZE_SAMPLE_KEYS = 10_000;

export interface RedisTierOptions {
  url: string;
  /** Prefix of every key this service writes; clear() and the size estimate look only at these. */
  keyPrefix: string;
  ttlMs: number;
  /** How often the entries and bytes under keyPrefix are estimated (REDIS_SIZE_REFRESH_SECONDS). */
  sizeRefreshMs: number;
  logger: Logger;
}

/** Entries and bytes under the key prefix, as measured at `measuredAt` (epoch ms). */
interface SizeEstimate {
  entries: number;
  sizeBytes: number;
  measuredAt: number;
}

export class RedisTier implements LowerTier {
  readonly name = "redis";
  readonly #client: Redis;
  readonly #keyPrefix: string;
  readonly #ttlMs: number;
  readonly #logger: Logger;
  readonly #counters = new TierCounters();
  readonly #failures: FailureLog;
  readonly #pending = new Set<Promise<unknown>>();
  /** Until the first estimate lands: nothing known, aged from the tier's start. */
  #size: SizeEstimate = { entries: 0, sizeBytes: 0, measuredAt: Date.now() };
  /** Bumped by clear(), so an estimate begun before it cannot land after it. */
  #sizeGeneration = 0;
  #sizeTimerBusy = false;
  readonly #sizeTimer: NodeJS.Timeout;

  /**
   * Connects, waiting for the first attempt to settle so that lookups right
   * after start are not failures, then makes the first size estimate. An
   * unreachable Redis is not an error here: the tier starts as an outage and
   * keeps reconnecting.
   */
  static async open(options: RedisTierOptions): Promise<RedisTier> {
    const tier = new RedisTier(options);
    await once(tier.#client, "ready", { signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS) }).catch(() => undefined);
    await tier.#refreshSize();
    return tier;
  }

  private constructor(options: RedisTierOptions) {
    this.#keyPrefix = options.keyPrefix;
    this.#ttlMs = options.ttlMs;
    this.#logger = options.logger;
    this.#failures = new FailureLog(options.logger, this.name);
    this.#client = new Redis(options.url, {
      enableOfflineQueue: false, // fail fast while disconnected
      maxRetriesPerRequest: 0, // commands in flight when the link drops fail instead of waiting for it
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    });
    // Connection errors repeat on every reconnect attempt: they start a failure
    // streak but are not counted, since no lookup or store failed.
    this.#client.on("error", (error: unknown) => this.#failures.fail(error));
    this.#client.on("ready", () => this.#failures.recover());
    // Off the request path: stats() only reads the last estimate. The estimate also
    // probes a Redis that nothing else is talking to, so a hang shows as unavailable.
    this.#sizeTimer = setInterval(() => {
      if (this.#sizeTimerBusy) return;
      this.#sizeTimerBusy = true;
      void this.#refreshSize().finally(() => (this.#sizeTimerBusy = false));
    }, options.sizeRefreshMs).unref();
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const data = await this.#run(() => this.#client.getBuffer(this.#keyPrefix + key));
    if (!data) {
      this.#counters.misses++;
      return undefined;
    }
    try {
      const entry = decodeEntry(key, data);
      this.#counters.hits++;
      return entry;
    } catch (error) {
      this.#counters.misses++;
      this.#counters.errors++;
      this.#logger.warn({ err: error, tier: this.name, key }, "unreadable redis cache entry removed");
      this.#track(this.#run(() => this.#client.unlink(this.#keyPrefix + key)));
      return undefined;
    }
  }

  put(key: string, entry: CacheEntry): Promise<void> {
    const ttl = Math.ceil(remainingTtlMs(entry.storedAt, this.#ttlMs));
    if (ttl <= 0) return Promise.resolve();
    const data = encodeEntry(key, entry);
    return this.#track(this.#run(() => this.#client.set(this.#keyPrefix + key, data, "PX", ttl)));
  }

  /**
   * Removes this service's keys only, by prefix, with SCAN + UNLINK (never KEYS, which
   * blocks Redis): O(keys), an admin call. Then estimates the size again.
   */
  async clear(): Promise<CacheClearResult> {
    await this.flush();
    this.#counters.reset(); // first, so a clear that fails shows in the new period's errors
    this.#sizeGeneration++;
    const removed = { entriesRemoved: 0, bytesRemoved: 0 };
    await this.#run(() =>
      this.#forEachKeyBatch(async (keys, sizes) => {
        removed.entriesRemoved += await this.#client.unlink(...keys);
        removed.bytesRemoved += sizes.reduce((sum, size) => sum + size, 0);
      }),
    );
    await this.#refreshSize();
    return removed;
  }

  /**
   * Hits, misses and errors as counted; entries and bytes from the last periodic
   * estimate, with its age. Available while connected and the last command succeeded,
   * so a Redis that hangs reads as unavailable after one command timeout.
   */
  stats(): CacheTierStats {
    return this.#counters.snapshot(this.name, {
      entries: this.#size.entries,
      sizeBytes: this.#size.sizeBytes,
      available: this.#client.status === "ready" && !this.#failures.failing,
      sizeAgeSeconds: (Date.now() - this.#size.measuredAt) / 1000,
    });
  }

  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  async close(): Promise<void> {
    clearInterval(this.#sizeTimer);
    await this.flush();
    this.#client.disconnect();
  }

  /** Replaces the estimate unless clear() ran meanwhile or a later estimate already landed. */
  async #refreshSize(): Promise<void> {
    const generation = this.#sizeGeneration;
    const size = await this.#run(() => this.#measureSize());
    if (size && generation === this.#sizeGeneration && size.measuredAt >= this.#size.measuredAt) this.#size = size;
  }

  /**
   * Entries and bytes under the prefix from at most SIZE_SAMPLE_KEYS keys: SCAN visits
   * the keys in hash order, so the first ones it returns are a uniform sample, and the
   * prefix's part of them times DBSIZE estimates the whole. A scan that finishes within
   * the sample counted every key.
   */
  async #measureSize(): Promise<SizeEstimate> {
    const measuredAt = Date.now();
    const keysInDatabase = await this.#client.dbsize();
    const ours = new Set<string>(); // SCAN may return a key twice while Redis rehashes
    let sizeBytes = 0;
    let scanned = 0;
    let cursor = "0";
    do {
      const [next, keys] = await this.#client.scan(cursor, "COUNT", SCAN_BATCH);
      cursor = next;
      scanned += keys.length;
      const newKeys = keys.filter((key) => key.startsWith(this.#keyPrefix) && !ours.has(key));
      for (const key of newKeys) ours.add(key);
      for (const size of await this.#sizesOf(newKeys)) sizeBytes += size;
    } while (cursor !== "0" && scanned < SIZE_SAMPLE_KEYS);
    const scale = cursor === "0" ? 1 : Math.max(keysInDatabase, scanned) / scanned;
    return { entries: Math.round(ours.size * scale), sizeBytes: Math.round(sizeBytes * scale), measuredAt };
  }

  /** Runs one Redis operation; a failure resolves to undefined, counted and logged once per streak. */
  async #run<T>(operation: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await operation();
      this.#failures.recover();
      return result;
    } catch (error) {
      this.#counters.errors++;
      this.#failures.fail(error);
      return undefined;
    }
  }

  #track<T>(operation: Promise<T>): Promise<void> {
    const settled = operation.then(() => undefined);
    this.#pending.add(settled);
    void settled.then(() => this.#pending.delete(settled));
    return settled;
  }

  async #forEachKeyBatch(visit: (keys: string[], sizes: number[]) => Promise<void>): Promise<void> {
    const stream = this.#client.scanStream({ match: `${escapeGlob(this.#keyPrefix)}*`, count: SCAN_BATCH });
    for await (const batch of stream) {
      const keys = batch as string[];
      if (keys.length > 0) await visit(keys, await this.#sizesOf(keys));
    }
  }

  /** Value sizes in bytes, one pipelined round trip; a key gone meanwhile is 0. */
  async #sizesOf(keys: string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const replies = (await this.#client.pipeline(keys.map((key) => ["strlen", key])).exec()) ?? [];
    return replies.map(([error, size]) => {
      if (error) throw error;
      return Number(size);
    });
  }
}

/** SCAN MATCH treats * ? [ ] and \ as pattern syntax; the prefix must match literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
