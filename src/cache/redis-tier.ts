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

export interface RedisTierOptions {
  url: string;
  /** Prefix of every key this service writes; clear() and stats() look only at these. */
  keyPrefix: string;
  ttlMs: number;
  logger: Logger;
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

  /**
   * Connects, waiting for the first attempt to settle so that lookups right
   * after start are not failures. An unreachable Redis is not an error here:
   * the tier starts as an outage and keeps reconnecting.
   */
  static async open(options: RedisTierOptions): Promise<RedisTier> {
    const tier = new RedisTier(options);
    await once(tier.#client, "ready", { signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS) }).catch(() => undefined);
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

  /** Removes this service's keys only, by prefix, with SCAN + UNLINK (never KEYS, which blocks Redis). */
  async clear(): Promise<CacheClearResult> {
    await this.flush();
    this.#counters.reset(); // first, so a clear that fails shows in the new period's errors
    const removed = { entriesRemoved: 0, bytesRemoved: 0 };
    await this.#run(() =>
      this.#forEachKeyBatch(async (keys, sizes) => {
        removed.entriesRemoved += await this.#client.unlink(...keys);
        removed.bytesRemoved += sizes.reduce((sum, size) => sum + size, 0);
      }),
    );
    return removed;
  }

  /** Entries and bytes are counted with a SCAN over this service's keys: O(keys), meant for admin calls. */
  async stats(): Promise<CacheTierStats> {
    const usage = { entries: 0, sizeBytes: 0 };
    await this.#run(() =>
      this.#forEachKeyBatch(async (keys, sizes) => {
        usage.entries += keys.length;
        usage.sizeBytes += sizes.reduce((sum, size) => sum + size, 0);
      }),
    );
    return this.#counters.snapshot(this.name, { ...usage, available: this.#client.status === "ready" });
  }

  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  async close(): Promise<void> {
    await this.flush();
    this.#client.disconnect();
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
      if (keys.length === 0) continue;
      const replies = (await this.#client.pipeline(keys.map((key) => ["strlen", key])).exec()) ?? [];
      const sizes = replies.map(([error, size]) => {
        if (error) throw error;
        return Number(size);
      });
      await visit(keys, sizes);
    }
  }
}

/** SCAN MATCH treats * ? [ ] and \ as pattern syntax; the prefix must match literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
