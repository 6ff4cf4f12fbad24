// The RPC server: TtsService, grpc.health.v1 and reflection over gRPC,
// gRPC-Web and Connect on one port, with graceful shutdown.

import { readFile } from "node:fs/promises";
import { Code, ConnectError, createContextValues, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import type { Config } from "../config/index.js";
import { createAccess } from "./access.js";
import { withCors } from "./cors.js";
import { withoutOverflowingDeadlines } from "./deadline.js";
import { Drain } from "./drain.js";
import { type HealthReporter, ServingStatus } from "./health.js";
import { createHealthListener } from "./health-listener.js";
import { DualProtocolListener } from "./listener.js";
import type { Metrics } from "./metrics.js";
import { metricsRoute } from "./metrics-access.js";
import { type OpenAiDeps, openAiRoutes } from "./openai.js";
import { pageRoutes } from "./page/serve.js";
import { createPipeline, PEER_ADDRESS, pipelineRoute, plainTextError } from "./pipeline.js";
import { type HttpRoute, routes } from "./routes.js";
import type { LiveStream } from "./tts-service.js";
import { STREAM_PATH, upgradeRequired, webSocketUpgrade } from "./websocket.js";

// Time calls cut off at the end of the grace period get to send their
// UNAVAILABLE status before the connections are dropped. A response counts as
// sent when its HTTP/2 stream closes, which a client that keeps its request
// side open delays until this runs out.
const CUT_OFF_ANSWER_MS = 1000;

export interface ServerDeps {
  readonly logger: Logger;
  /** The TtsService implementation: what the engine plugs in. */
  readonly tts: ServiceImpl<typeof TtsService>;
  /** Health of the server and of TtsService; the caller marks it serving when ready. */
  readonly health: HealthReporter;
  /** Prometheus metrics: counted by the call pipeline, served at GET /metrics. */
  readonly metrics: Metrics;
  /** What the OpenAI-compatible routes (/v1/audio/speech, /v1/models) synthesize with. */
  readonly openai: OpenAiDeps;
  /** StreamingSynthesize's session, for its WebSocket route (GET /v1/stream). */
  readonly liveStream: LiveStream;
}

export interface Server {
  /** Binds SERVICE_HOST:SERVICE_PORT; resolves with the bound port. */
  listen(): Promise<number>;
  /**
   * Health turns NOT_SERVING, new calls are refused with UNAVAILABLE, calls
   * in flight get SHUTDOWN_GRACE_SECONDS to finish and are then cut off.
   * Resolves once every connection is closed.
   */
  close(): Promise<void>;
  /** The bound port; only once listen() has resolved. */
  readonly port: number;
  /** The bound HEALTH_PORT; undefined when it is off. Only once listen() has resolved. */
  readonly healthPort: number | undefined;
}

export function createServer(config: Config, deps: ServerDeps): Server {
  const drain = new Drain();
  // Aborted when the grace period is over, to stop handlers still running.
  const graceOver = new AbortController();
  // One key ring and rate limiter for the RPCs and the HTTP routes alike.
  const access = createAccess(config, deps.metrics.observeAuthFailure);
  const pipeline = createPipeline({ logger: deps.logger, metrics: deps.metrics, access, draining: () => drain.draining });
  const openai = openAiRoutes({
    ...deps.openai,
    pipeline,
    serving: () => deps.health.status(TtsService.typeName) === ServingStatus.SERVING,
    maxRequestBytes: config.maxRequestBytes,
    shutdownSignal: graceOver.signal,
  });
  // Everything that is not an RPC, by path; any other path goes to GET /metrics, which
  // answers 404 for it.
  const metrics = metricsRoute(deps.metrics.serve, pipeline, graceOver.signal, config.metricsPublic);
  const page = Object.entries(pageRoutes()).map(([path, serve]): [string, HttpRoute] => [
    path,
    pipelineRoute(pipeline, { service: "page", shutdownSignal: graceOver.signal, replyError: plainTextError }, serve),
  ]);
  const httpRoutes: Record<string, HttpRoute> = {
    ...Object.fromEntries(page),
    ...openai,
    [STREAM_PATH]: pipelineRoute(
      pipeline,
      { service: "page", shutdownSignal: graceOver.signal, replyError: plainTextError },
      upgradeRequired,
    ),
  };
  const upgrade = webSocketUpgrade({
    liveStream: deps.liveStream,
    pipeline,
    hold: () => drain.hold(),
    shutdownSignal: graceOver.signal,
    maxFrameBytes: config.maxRequestBytes,
  });
  const handler = connectNodeAdapter({
    routes: routes(deps, pipeline),
    fallback: (req, res) => (httpRoutes[(req.url ?? "").split("?")[0] ?? ""] ?? metrics)(req, res),
    interceptors: [pipeline.interceptor],
    // An enum name or field the schema lacks is refused (INVALID_ARGUMENT naming it), not
    // silently dropped: "AUDIO_ENCODING_MP33" must not come back as WAV.
    jsonOptions: { ignoreUnknownFields: false },
    shutdownSignal: graceOver.signal,
    readMaxBytes: config.maxRequestBytes,
    // Responses go out uncompressed: encoded audio barely shrinks (PCM WAV to 84%, MP3 and
    // Opus not at all) and gzip cost more than the whole cache hit (BENCHMARKS.md).
    acceptCompression: [],
    contextValues: (req) => createContextValues().set(PEER_ADDRESS, req.socket?.remoteAddress ?? "unknown"),
  });
  const tracked = drain.track(withCors(config.corsOrigins, withoutOverflowingDeadlines(handler)));
  const connectionLimits = {
    maxConcurrentStreams: config.http2MaxConcurrentStreams,
    keepaliveIntervalMs: config.http2KeepaliveIntervalSeconds * 1000,
    keepaliveTimeoutMs: config.http2KeepaliveTimeoutSeconds * 1000,
    idleTimeoutMs: config.http2IdleTimeoutSeconds * 1000,
    http1HeadersTimeoutMs: config.http1HeadersTimeoutSeconds * 1000,
    http1RequestTimeoutMs: config.http1RequestTimeoutSeconds * 1000,
  };
  const healthListener = config.healthPort === undefined ? undefined : createHealthListener(deps.health, connectionLimits);
  let listener: DualProtocolListener | undefined;
  let boundPort: number | undefined;
  let boundHealthPort: number | undefined;
  let closed: Promise<void> | undefined;

  const closeGracefully = async (): Promise<void> => {
    deps.health.markShuttingDown();
    drain.start();
    if (listener === undefined) return;
    // Probes keep reading NOT_SERVING on HEALTH_PORT until the service port is gone too.
    const connectionsGone = Promise.all([listener.stopAccepting(), healthListener?.stopAccepting()]);
    if (await drain.idle(config.shutdownGraceSeconds * 1000)) {
      // A response counts as done once its stream closes, which can be before its last bytes
      // have left the socket: connections are ended after those, not dropped on them.
      await Promise.all([listener.endConnections(CUT_OFF_ANSWER_MS), healthListener?.endConnections(CUT_OFF_ANSWER_MS)]);
    } else {
      deps.logger.warn({ requests_in_flight: drain.requestsInFlight }, "grace period over, cutting off calls");
      graceOver.abort(new ConnectError("server shut down", Code.Unavailable));
      await drain.idle(CUT_OFF_ANSWER_MS);
    }
    listener.destroyConnections();
    healthListener?.destroyConnections();
    await connectionsGone;
  };

  return {
    async listen() {
      const tls = config.tls && {
        cert: await readFile(config.tls.certFile),
        key: await readFile(config.tls.keyFile),
      };
      listener = new DualProtocolListener(tracked, { tls, ...connectionLimits, upgrade });
      boundPort = await listener.listen(config.serviceHost, config.servicePort);
      if (healthListener !== undefined) boundHealthPort = await healthListener.listen(config.serviceHost, config.healthPort!);
      return boundPort;
    },
    get healthPort() {
      if (boundPort === undefined) throw new Error("the server is not listening");
      return boundHealthPort;
    },
    close() {
      closed ??= closeGracefully();
      return closed;
    },
    get port() {
      if (boundPort === undefined) throw new Error("the server is not listening");
      return boundPort;
    },
  };
}
