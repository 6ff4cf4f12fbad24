// The composition root: builds every part from the configuration and wires them in the
// one direction data flows (request → validation → cache → engine → audio → response).

import type { Logger } from "pino";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import type { Config } from "../config/index.js";
import { type Admission, createSynthesisStack } from "../synthesis/index.js";
import { HealthReporter } from "./health.js";
import { createMetrics } from "./metrics.js";
import { createServer, type Server } from "./server.js";
import { createLiveStream, createTtsService } from "./tts-service.js";

export interface App {
  readonly server: Server;
  readonly health: HealthReporter;
  /** Synthesis slots and queue, for their figures. */
  readonly admission: Admission;
  /** Binds the port; health answers NOT_SERVING until ready(). Resolves with the port. */
  listen(): Promise<number>;
  /** Fetches the default voice if it is missing, loads and warms it, then turns SERVING. */
  ready(): Promise<void>;
  /** Graceful shutdown of the server, then the workers and the cache. */
  close(): Promise<void>;
}

export async function createApp(config: Config, logger: Logger): Promise<App> {
  const stack = await createSynthesisStack(config, logger);
  const health = new HealthReporter([TtsService.typeName]);
  const limits = { maxTextLength: config.maxTextLength };
  const ttsDeps = {
    synthesizer: stack.synthesizer,
    catalog: stack.catalog,
    engine: stack.engine,
    cache: stack.cache,
    health,
    limits: {
      ...limits,
      idleTimeoutMs: config.streamingIdleTimeoutSeconds * 1000,
      maxDurationMs: config.streamingMaxDurationSeconds * 1000,
    },
    streaming: { maxBufferDelayMs: config.streamingMaxBufferDelayMs, maxBufferedCharacters: config.streamingMaxBufferedCharacters },
    defaultVoice: config.piperModelName,
  };
  const tts = createTtsService(ttsDeps);
  const metrics = createMetrics(stack);
  // grpc.health.v1 says SERVING only while the default voice can speak.
  stack.engine.onChange(() => health.setAbleToServe(stack.engine.canSpeak(config.piperModelName)));
  const server = createServer(config, {
    logger,
    health,
    tts,
    metrics,
    openai: { synthesizer: stack.synthesizer, catalog: stack.catalog, limits },
    liveStream: createLiveStream(ttsDeps),
  });

  return {
    server,
    health,
    admission: stack.admission,
    async listen() {
      const port = await server.listen();
      logger.info({ host: config.serviceHost, port, health_port: server.healthPort }, "listening");
      return port;
    },
    async ready() {
      await stack.loadDefaultVoice();
      health.markServing();
      logger.info({ voice: config.piperModelName }, "serving");
    },
    async close() {
      await server.close();
      await stack.close();
    },
  };
}
