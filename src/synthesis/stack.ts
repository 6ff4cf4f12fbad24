/**
 * Everything between a validated request and its audio, built from the configuration:
 * inference workers, voice registry, cache and the Synthesizer. The server and the CLI's
 * --local mode build the same stack.
 */
import type { Logger } from "pino";
import { openAudioCache, type AudioCache } from "../cache/index.js";
import type { Config } from "../config/config.js";
import { InferencePool } from "../engine/inference-pool.js";
import { ensureVoice } from "../voices/fetch.js";
import { VoiceRegistry } from "../voices/registry.js";
import { Admission } from "./admission.js";
import { Synthesizer } from "./synthesizer.js";

export interface SynthesisStack {
  pool: InferencePool;
  registry: VoiceRegistry;
  cache: AudioCache;
  synthesizer: Synthesizer;
  /** MAX_CONCURRENT_REQUESTS syntheses at once, MAX_QUEUE_SIZE waiting. */
  admission: Admission;
  /** Fetches the default voice if it is missing, then loads and warms it. */
  loadDefaultVoice(): Promise<void>;
  /** Lets running inferences finish, then stops the workers and flushes the cache. */
  close(): Promise<void>;
}

export async function createSynthesisStack(config: Config, logger: Logger): Promise<SynthesisStack> {
  const pool = new InferencePool({
    threads: config.maxConcurrentRequests,
    intraOpThreads: config.onnxIntraOpThreads,
    maxLoadedVoices: config.maxLoadedVoices,
  });
  const registry = new VoiceRegistry(config.modelsDir, pool, config.maxLoadedVoices, logger);
  const cache = await openAudioCache({
    enabled: config.cacheEnabled,
    sizeBytes: config.cacheSizeMb * 1024 * 1024,
    maxEntries: config.cacheMaxEntries,
    ttlSeconds: config.cacheTtlSeconds,
    dir: config.cacheDir,
    redisUrl: config.redisUrl,
    logger,
  });
  const admission = new Admission({ maxConcurrent: config.maxConcurrentRequests, maxQueue: config.maxQueueSize });
  const synthesizer = new Synthesizer({
    registry,
    pool,
    cache,
    logger,
    defaultVoice: config.piperModelName,
    streamChunkSize: config.streamChunkSize,
    admission,
  });
  return {
    pool,
    registry,
    cache,
    synthesizer,
    admission,
    async loadDefaultVoice() {
      await ensureVoice(config.modelsDir, config.piperModelName, { log: (message) => logger.info(message) });
      await registry.scan();
      await registry.get(config.piperModelName);
    },
    async close() {
      await pool.close();
      await cache.close();
    },
  };
}
