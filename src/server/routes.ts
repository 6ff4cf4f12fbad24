// Every service this server answers, on one router.

import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { guardHandlers } from "./boundary.js";
import { createHealthService, type HealthReporter } from "./health.js";
import type { CallPipeline } from "./pipeline.js";
import { registerReflection } from "./reflection.js";

/** A plain-HTTP route (the page, /v1, /metrics): what connect-node hands its fallback. */
export type HttpRoute = NonNullable<ConnectNodeAdapterOptions["fallback"]>;

export interface Services {
  readonly tts: ServiceImpl<typeof TtsService>;
  readonly health: HealthReporter;
}

/** Every service, each method's handler inside the boundary that hands refused calls to `pipeline`. */
export function routes({ tts, health }: Services, pipeline: CallPipeline): (router: ConnectRouter) => void {
  return (router) => {
    router.service(TtsService, tts);
    router.service(Health, createHealthService(health));
    // The error details' types too, so that grpcurl shows a BadRequest's field violations.
    registerReflection(router, [TtsService, Health], [file_google_rpc_error_details]);
    guardHandlers(router, pipeline);
  };
}
