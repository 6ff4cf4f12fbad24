// Who may read GET /metrics. With API keys off it is open, like everything else. With
// them on it needs a key (checked, and rate-limited, like any call, through the call
// pipeline), unless METRICS_PUBLIC opens it: a scraper inside the cluster then needs no
// secret, but anyone who reaches the port can read the service's figures.

import { type CallPipeline, pipelineRoute, plainTextError } from "./pipeline.js";
import type { HttpRoute } from "./routes.js";

const METRICS_PATH = "/metrics";

/** `serve` answers /metrics (and 404 for any other path it is given). */
export function metricsRoute(serve: HttpRoute, pipeline: CallPipeline, shutdownSignal: AbortSignal, isPublic: boolean): HttpRoute {
  if (isPublic) return serve;
  const guarded = pipelineRoute(pipeline, { service: "metrics", shutdownSignal, replyError: plainTextError }, async (req, res) =>
    serve(req, res),
  );
  return (req, res) => ((req.url ?? "").split("?")[0] === METRICS_PATH ? guarded : serve)(req, res);
}
