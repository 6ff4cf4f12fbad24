// The TtsService as far as this code base can answer it today: no engine, no
// voices and no cache are wired in yet, so it reports exactly that. The
// engine integration replaces it through createServer's `tts` dependency.

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import packageJson from "../../package.json" with { type: "json" };
import type { Config } from "../config/config.js";
import {
  CacheTierStatsSchema,
  ClearCacheResponseSchema,
  GetCacheStatsResponseSchema,
  HealthResponseSchema,
  HealthStatus,
  ListVoicesResponseSchema,
  TtsService,
} from "../../gen/aetheros/tts/v1/tts_pb.js";
import { ServingStatus, type HealthReporter } from "./health.js";

export function createTtsService(config: Config, health: HealthReporter): ServiceImpl<typeof TtsService> {
  const engineMissing = (): never => {
    throw new ConnectError("engine not wired yet", Code.Unavailable);
  };
  return {
    synthesize: engineMissing,
    synthesizeStream: engineMissing,
    listVoices() {
      return create(ListVoicesResponseSchema, { defaultVoice: config.piperModelName });
    },
    health() {
      const serving = health.status(TtsService.typeName) === ServingStatus.SERVING;
      return create(HealthResponseSchema, {
        status: serving ? HealthStatus.SERVING : HealthStatus.NOT_SERVING,
        modelLoaded: false,
        uptimeSeconds: process.uptime(),
        version: packageJson.version,
        defaultVoice: config.piperModelName,
      });
    },
    getCacheStats() {
      return create(GetCacheStatsResponseSchema, {
        total: create(CacheTierStatsSchema, { tier: "total" }),
        enabled: config.cacheEnabled,
      });
    },
    clearCache() {
      return create(ClearCacheResponseSchema);
    },
  };
}
