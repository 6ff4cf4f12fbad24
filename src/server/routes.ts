// Every service this server answers, on one router.

import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { createHealthService, type HealthReporter } from "./health.js";
import { registerReflection } from "./reflection.js";

/** A plain-HTTP route (the page, /v1, /metrics): what connect-node hands its fallback. */
export type HttpRoute = NonNullable<ConnectNodeAdapterOptions["fallback"]>;

export interface Services {
  readonly tts: ServiceImpl<typeof TtsService>;
  readonly health: HealthReporter;
}

export function routes({ tts, health }: Services): (router: ConnectRouter) => void {
  return (router) => {
    router.service(TtsService, tts);
    router.service(Health, createHealthService(health));
    registerReflection(router, [TtsService, Health]);
  };
}
