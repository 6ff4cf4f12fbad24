/** The audio cache: called by the service between request validation and the engine. */
export {
  DEFAULT_KEY_PREFIX,
  openAudioCache,
  type AudioCache,
  type AudioCacheOptions,
  type CacheHit,
  type CacheMiss,
  type CacheResult,
} from "./audio-cache.js";
export type { CachedAudio, TimedWord } from "./entry.js";
export { cacheKey, type CacheKeyParts } from "./key.js";
export type { CacheClearResult, CacheStats, CacheTierName, CacheTierStats } from "./stats.js";
