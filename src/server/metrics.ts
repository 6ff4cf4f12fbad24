// Prometheus metrics (prom-client), served at GET /metrics on the service port: calls by
// method and status with latency histograms, synthesis time, real-time factor and audio
// produced, cache and admission state, loaded voices, and Node's own metrics (event-loop
// lag among them).

import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { SynthesisStack } from "../synthesis/stack.js";
import { codeName } from "./interceptors.js";
import type { HttpRoute } from "./routes.js";

export interface Metrics {
  /** Counts every call; sits right inside the logging interceptor. */
  readonly interceptor: Interceptor;
  /** Wraps a plain-HTTP route (the page, /v1) to count its requests by status and time them. */
  countHttp(route: string, handler: HttpRoute): HttpRoute;
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

export function createMetrics(sources: Sources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "aetheros_tts_" });
  const calls = new Counter({
    name: "aetheros_tts_rpc_total",
    help: "Calls by method and status code.",
    labelNames: ["method", "code"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "aetheros_tts_rpc_duration_seconds",
    help: "Call duration by method (until the last stream message).",
    labelNames: ["method"],
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
  const audioSeconds = new Counter({
    name: "aetheros_tts_audio_seconds_total",
    help: "Seconds of audio returned, by whether the cache answered.",
    labelNames: ["cached"],
    registers: [registry],
  });
  const cacheGauge = (
    name: string,
    help: string,
    pick: (tier: { hits: number; misses: number; entries: number; sizeBytes: number }) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["tier"],
      registers: [registry],
      collect() {
        const stats = sources.cache.stats();
        for (const tier of [stats.total, ...stats.tiers]) this.set({ tier: tier.tier }, pick(tier));
      },
    });
  cacheGauge("aetheros_tts_cache_hits", "Cache hits per tier since start or last clear.", (t) => t.hits);
  cacheGauge("aetheros_tts_cache_misses", "Cache misses per tier since start or last clear.", (t) => t.misses);
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

  const observeSpeech = (figures: SpeechFigures | undefined): void => {
    if (figures?.durationSeconds === undefined || figures.generationTimeMs === undefined) return;
    audioSeconds.inc({ cached: String(Boolean(figures.cached)) }, figures.durationSeconds);
    if (figures.cached || figures.durationSeconds <= 0) return;
    synthesisSeconds.observe(figures.generationTimeMs / 1000);
    realTimeFactor.observe(figures.generationTimeMs / 1000 / figures.durationSeconds);
  };

  const interceptor: Interceptor = (next) => async (req) => {
    const method = `${req.service.typeName}/${req.method.name}`;
    const stopTimer = latency.startTimer({ method });
    const finish = (code: string): void => {
      stopTimer();
      calls.inc({ method, code });
    };
    try {
      const res = await next(req);
      if (!res.stream) {
        observeSpeech(res.message as SpeechFigures);
        finish("ok");
        return res;
      }
      return {
        ...res,
        message: (async function* () {
          let code = "canceled";
          try {
            for await (const message of res.message) {
              const event = (message as { event?: { case?: string; value?: SpeechFigures } }).event;
              if (event?.case === "summary") observeSpeech(event.value);
              yield message;
            }
            code = "ok";
          } catch (error) {
            code = codeOf(error);
            throw error;
          } finally {
            finish(code);
          }
        })(),
      };
    } catch (error) {
      finish(codeOf(error));
      throw error;
    }
  };

  return {
    interceptor,
    countHttp(route, handler) {
      return (req, res) => {
        const stopTimer = httpLatency.startTimer({ route });
        res.once("close", () => {
          stopTimer();
          httpRequests.inc({ route, status: String(res.statusCode) });
        });
        handler(req, res);
      };
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

function codeOf(error: unknown): string {
  return codeName(ConnectError.from(error).code);
}
