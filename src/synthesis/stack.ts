/**
 * Everything between a validated request and its audio, built from the configuration:
 * voice catalog, engine (inference workers and loaded voices), cache, admission and the
 * Synthesizer. The server and the CLI's --local mode build the same stack.
 */
import type { Logger } from "pino";
import { type AudioCache, openAudioCache } from "../cache/index.js";
import type { Config } from "../config/index.js";
import { Engine } from "../engine/index.js";
import { LexiconStore } from "../lexicons/index.js";
import { ensureVoice, VoiceCatalog } from "../voices/index.js";
import { Admission } from "./admission.js";
import { Synthesizer } from "./synthesizer.js";

export interface SynthesisStack {
  catalog: VoiceCatalog;
  engine: Engine;
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
  const engine = new Engine({
    threads: config.maxConcurrentRequests,
    intraOpThreads: config.onnxIntraOpThreads,
    maxLoadedVoices: config.maxLoadedVoices,
    logger,
  });
  const catalog = new VoiceCatalog(config.modelsDir, logger);
  const cache = await openAudioCache({
    enabled: config.cacheEnabled,
    sizeBytes: config.cacheSizeMb * 1024 * 1024,
    maxEntries: config.cacheMaxEntries,
    ttlSeconds: config.cacheTtlSeconds,
    dir: config.cacheDir,
    redisUrl: config.redisUrl,
    redisSizeRefreshSeconds: config.redisSizeRefreshSeconds,
    logger,
  });
  const admission = new Admission({
    maxConcurrent: config.maxConcurrentRequests,
    maxQueue: config.maxQueueSize,
    maxQueuePerClient: config.maxQueuePerClient,
  });
  const lexicons = await LexiconStore.open({ dir: config.lexiconsDir, defaults: config.defaultLexicons, logger });
  const synthesizer = new Synthesizer({
    catalog,
    engine,
    cache,
    logger,
    defaultVoice: config.piperModelName,
    streamChunkSize: config.streamChunkSize,
    admission,
    lexicons,
  });
  return {
    catalog,
    engine,
    cache,
    synthesizer,
    admission,
    async loadDefaultVoice() {
      await ensureVoice(config.modelsDir, config.piperModelName, { log: (message) => logger.info(message) });
      await catalog.scan();
      await engine.load(await catalog.voice(config.piperModelName));
    },
    async close() {
      lexicons.close();
      await engine.close();
      await cache.close();
    },
  };
}
