// HEALTH_PORT: a second, plaintext listener answering grpc.health.v1 only (Check and
// Watch), for probes that cannot speak TLS (kubelet's native gRPC probe) while the
// service port does. It reports the same HealthReporter as the service port, so it turns
// NOT_SERVING when shutdown begins. Nothing else is reachable on it: every other path
// gets UNIMPLEMENTED (RPCs) or 404.

import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { createHealthService, type HealthReporter } from "./health.js";
import { DualProtocolListener, type ListenerOptions } from "./listener.js";

// A health check is a few bytes: anything bigger is not one.
const MAX_REQUEST_BYTES = 1024;

export function createHealthListener(health: HealthReporter, options: Omit<ListenerOptions, "tls">): DualProtocolListener {
  const handler = connectNodeAdapter({
    routes: (router) => router.service(Health, createHealthService(health)),
    readMaxBytes: MAX_REQUEST_BYTES,
  });
  return new DualProtocolListener(handler, options);
}
