// Prometheus metrics (prom-client), served at GET /metrics on the service port: RPCs under
// the gRPC ecosystem's names (grpc_server_*), plain-HTTP routes by status, synthesis time, real-time factor and audio
// produced, cache and admission state, loaded voices, and Node's own metrics (event-loop
// lag among them).

import { Code } from "@connectrpc/connect";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { SynthesisStack } from "../synthesis/index.js";
import type { AuthFailure } from "./access.js";
import type { CallKind } from "./pipeline.js";
import type { HttpRoute } from "./routes.js";

export interface CallMetrics {
  /** A call started (RPCs: grpc_server_started_total). */
  observeStart(kind: CallKind): void;
  /** A call ended with `code` (undefined: OK) after `seconds`; a plain-HTTP route with its status. */
  observeEnd(kind: CallKind, code: Code | undefined, seconds: number, httpStatus?: number): void;
  /** The audio figures of a response message (unary response or stream summary), when it has them. */
  observeSpeech(message: unknown): void;
}

export interface Metrics extends CallMetrics {
  /** A caller refused for its API key, or for too many failed authentications from its address. */
  observeAuthFailure(failure: AuthFailure): void;
  /** Answers GET /metrics; anything else is 404. */
  serve: HttpRoute;
}

type Sources = Pick<SynthesisStack, "cache" | "engine" | "admission">;

interface SpeechFigures {
  durationSeconds?: number;
  generationTimeMs?: number;
  cached?: boolean;
}

// From a cache hit (~1 ms) to a long paragraph (tens of seconds).
const CALL_SECONDS_BUCKETS = [0.001, 0.003, 0.01, 0.03, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

// prom-client's gauges whose names end in _total, which promtool refuses for a gauge; the
// same figures are in nodejs_active_handles and nodejs_active_requests by type.
const MISNAMED_DEFAULT_METRICS = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

export function createMetrics(sources: Sources): Metrics {
  const registry = new Registry();
  // Unprefixed, as the Node.js dashboards and alerts expect them.
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  // The gRPC ecosystem's server metrics (go-grpc-prometheus, grpc-ecosystem/go-grpc-middleware),
  // so that existing dashboards and alerts work.
  const rpcLabelNames = ["grpc_type", "grpc_service", "grpc_method"];
  const started = new Counter({
    name: "grpc_server_started_total",
    help: "RPCs started on the server.",
    labelNames: rpcLabelNames,
    registers: [registry],
  });
  const handled = new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed on the server, by status code.",
    labelNames: [...rpcLabelNames, "grpc_code"],
    registers: [registry],
  });
  const handling = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "RPC duration until the status is sent (the last message of a stream).",
    labelNames: rpcLabelNames,
    buckets: CALL_SECONDS_BUCKETS,
    registers: [registry],
  });
  const synthesisSeconds = new Histogram({
    name: "aetheros_tts_synthesis_seconds",
    help: "Server time of uncached syntheses.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const realTimeFactor = new Histogram({
    name: "aetheros_tts_real_time_factor",
    help: "Synthesis time / audio duration of uncached syntheses.",
    buckets: [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: "aetheros_tts_http_requests_total",
    help: "Plain-HTTP requests (page, /v1) by route and HTTP status.",
    labelNames: ["route", "status"],
    registers: [registry],
  });
  const httpLatency = new Histogram({
    name: "aetheros_tts_http_request_duration_seconds",
    help: "Plain-HTTP request duration by route (until the response is sent).",
    labelNames: ["route"],
    buckets: CALL_SECONDS_BUCKETS,
    registers: [registry],
  });
  const authFailures = new Counter({
    name: "aetheros_tts_auth_failures_total",
    help: "Calls refused for a missing or invalid API key, or from an address past AUTH_FAILURES_PER_MINUTE.",
    labelNames: ["reason"],
    registers: [registry],
  });
  const audioSeconds = new Counter({
    name: "aetheros_tts_audio_seconds_total",
    help: "Seconds of audio returned, by whether the cache answered.",
    labelNames: ["cached"],
    registers: [registry],
  });
  type TierFigure = (tier: { hits: number; misses: number; entries: number; sizeBytes: number }) => number;
  /** Sets a tier-labelled metric from the cache's in-process figures at each scrape. */
  const perTier = (set: (labels: { tier: string }, value: number) => void, pick: TierFigure): void => {
    const stats = sources.cache.stats();
    for (const tier of [stats.total, ...stats.tiers]) set({ tier: tier.tier }, pick(tier));
  };
  const cacheGauge = (name: string, help: string, pick: TierFigure) =>
    new Gauge({
      name,
      help,
      labelNames: ["tier"],
      registers: [registry],
      collect() {
        perTier((labels, value) => this.set(labels, value), pick);
      },
    });
  // Counters, read from the tiers' own counts. ClearCache restarts those counts, which
  // Prometheus takes as a counter reset, as after a restart.
  const cacheCounter = (name: string, help: string, pick: TierFigure) =>
    new Counter({
      name,
      help,
      labelNames: ["tier"],
      registers: [registry],
      collect() {
        this.reset();
        perTier((labels, value) => this.inc(labels, value), pick);
      },
    });
  cacheCounter("aetheros_tts_cache_hits_total", "Cache hits per tier since start or the last ClearCache.", (t) => t.hits);
  cacheCounter("aetheros_tts_cache_misses_total", "Cache misses per tier since start or the last ClearCache.", (t) => t.misses);
  cacheGauge("aetheros_tts_cache_entries", "Entries per cache tier.", (t) => t.entries);
  cacheGauge("aetheros_tts_cache_size_bytes", "Bytes per cache tier.", (t) => t.sizeBytes);
  new Gauge({
    name: "aetheros_tts_queue_depth",
    help: "Syntheses waiting for a slot.",
    registers: [registry],
    collect() {
      this.set(sources.admission.stats().queued);
    },
  });
  new Gauge({
    name: "aetheros_tts_syntheses_running",
    help: "Syntheses holding a slot.",
    registers: [registry],
    collect() {
      this.set(sources.admission.stats().running);
    },
  });
  new Gauge({
    name: "aetheros_tts_voices_loaded",
    help: "Voices loaded in memory.",
    registers: [registry],
    collect() {
      this.set(sources.engine.status().loaded.length);
    },
  });

  return {
    observeStart(kind) {
      if ("rpc" in kind) started.inc(rpcLabels(kind.rpc));
    },
    observeEnd(kind, code, seconds, httpStatus) {
      if ("rpc" in kind) {
        const labels = rpcLabels(kind.rpc);
        handled.inc({ ...labels, grpc_code: code === undefined ? "OK" : Code[code] });
        handling.observe(labels, seconds);
      } else {
        httpRequests.inc({ route: kind.http.path, status: String(httpStatus) });
        httpLatency.observe({ route: kind.http.path }, seconds);
      }
    },
    observeAuthFailure(reason) {
      authFailures.inc({ reason });
    },
    observeSpeech(message) {
      const figures = speechFigures(message);
      if (figures?.durationSeconds === undefined || figures.generationTimeMs === undefined) return;
      audioSeconds.inc({ cached: String(Boolean(figures.cached)) }, figures.durationSeconds);
      if (figures.cached || figures.durationSeconds <= 0) return;
      synthesisSeconds.observe(figures.generationTimeMs / 1000);
      realTimeFactor.observe(figures.generationTimeMs / 1000 / figures.durationSeconds);
    },
    serve(req, res) {
      const path = (req.url ?? "").split("?")[0];
      if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found\n");
        return;
      }
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(text);
        },
        (error: Error) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(`${error.message}\n`);
        },
      );
    },
  };
}

function rpcLabels(rpc: { service: string; method: string; type: string }) {
  return { grpc_type: rpc.type, grpc_service: rpc.service, grpc_method: rpc.method };
}

/** A Synthesize response's figures, or a SynthesizeStream summary's. */
function speechFigures(message: unknown): SpeechFigures | undefined {
  const event = (message as { event?: { case?: string; value?: SpeechFigures } } | undefined)?.event;
  if (event !== undefined) return event.case === "summary" ? event.value : undefined;
  return message as SpeechFigures | undefined;
}
