// The composition root: builds every part from the configuration and wires them in the
// one direction data flows (request → validation → cache → engine → audio → response).

import type { Logger } from "pino";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { openAudioCache } from "../cache/index.js";
import type { Config } from "../config/config.js";
import { InferencePool } from "../engine/inference-pool.js";
import { Synthesizer } from "../synthesis/synthesizer.js";
import { ensureVoice } from "../voices/fetch.js";
import { VoiceRegistry } from "../voices/registry.js";
import { HealthReporter } from "./health.js";
import { createServer, type Server } from "./server.js";
import { createTtsService } from "./tts-service.js";

export interface App {
  readonly server: Server;
  readonly health: HealthReporter;
  /** Binds the port; health answers NOT_SERVING until ready(). Resolves with the port. */
  listen(): Promise<number>;
  /** Fetches the default voice if it is missing, loads and warms it, then turns SERVING. */
  ready(): Promise<void>;
  /** Graceful shutdown of the server, then the workers and the cache. */
  close(): Promise<void>;
}

export async function createApp(config: Config, logger: Logger): Promise<App> {
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
  const synthesizer = new Synthesizer({
    registry,
    pool,
    cache,
    logger,
    defaultVoice: config.piperModelName,
    streamChunkSize: config.streamChunkSize,
  });
  const health = new HealthReporter([TtsService.typeName]);
  const tts = createTtsService({
    synthesizer,
    registry,
    cache,
    health,
    limits: { maxTextLength: config.maxTextLength },
    defaultVoice: config.piperModelName,
  });
  const server = createServer(config, { logger, health, tts });

  return {
    server,
    health,
    async listen() {
      const port = await server.listen();
      logger.info({ host: config.serviceHost, port }, "listening");
      return port;
    },
    async ready() {
      await ensureVoice(config.modelsDir, config.piperModelName, { log: (message) => logger.info(message) });
      await registry.scan();
      await registry.get(config.piperModelName);
      health.markServing();
      logger.info({ voice: config.piperModelName }, "serving");
    },
    async close() {
      await server.close();
      await pool.close();
      await cache.close();
    },
  };
}
