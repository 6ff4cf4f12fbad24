// The container's HEALTHCHECK: `node dist/src/server/healthcheck.js` (built) or
// `npm run healthcheck` (sources). Asks grpc.health.v1.Health/Check for the whole server
// on this machine, with the server's own configuration: HEALTH_PORT when it is set,
// else SERVICE_PORT (over TLS when TLS_CERT_FILE is set). Exits 0 when the answer is
// SERVING, 1 otherwise, printing the status or why there was none.
//
// It speaks gRPC through node:http2 itself, a few frames, so that a check costs a
// Node start-up and a round trip (tens of milliseconds), not a transport library's load.

import http2 from "node:http2";
import { loadConfig } from "../config/index.js";

const TIMEOUT_MS = 3000;
// grpc.health.v1.HealthCheckResponse.ServingStatus.
const STATUS_NAMES = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];

/** Where the server listens, seen from this machine. */
function target(): { url: string; tls: boolean } {
  const config = loadConfig();
  const host = ["0.0.0.0", "::", ""].includes(config.serviceHost) ? "127.0.0.1" : config.serviceHost;
  const authority = host.includes(":") ? `[${host}]` : host;
  if (config.healthPort !== undefined) return { url: `http://${authority}:${config.healthPort}`, tls: false };
  return { url: `${config.tls ? "https" : "http"}://${authority}:${config.servicePort}`, tls: config.tls !== undefined };
}

/** The ServingStatus the server answers, or an error. */
function check(url: string, tls: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    // The certificate names the service's public host, not 127.0.0.1; this is the server
    // asking itself, so it is not verified.
    const session = http2.connect(url, tls ? { rejectUnauthorized: false } : {});
    const fail = (error: Error): void => {
      session.destroy();
      reject(error);
    };
    session.on("error", fail);
    session.setTimeout(TIMEOUT_MS, () => fail(new Error(`no answer from ${url} within ${TIMEOUT_MS} ms`)));
    const stream = session.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Check",
      "content-type": "application/grpc",
      te: "trailers",
    });
    // One uncompressed message: an empty HealthCheckRequest (service "", the whole server).
    stream.end(Buffer.alloc(5));
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    let grpcMessage = "";
    stream.on("response", (headers) => {
      if (headers[":status"] !== 200) fail(new Error(`HTTP ${headers[":status"]} from ${url}`));
      grpcStatus ??= headers["grpc-status"] as string | undefined;
    });
    stream.on("trailers", (trailers) => {
      grpcStatus = trailers["grpc-status"] as string | undefined;
      grpcMessage = decodeURIComponent(String(trailers["grpc-message"] ?? ""));
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", fail);
    stream.on("end", () => {
      session.close();
      if (grpcStatus !== "0") return reject(new Error(`gRPC status ${grpcStatus ?? "missing"} ${grpcMessage}`.trim()));
      // The message (after its 5-byte prefix) is field 1, a varint: 08 <status>; absent means 0.
      const message = Buffer.concat(chunks).subarray(5);
      resolve(message[0] === 0x08 ? (message[1] ?? 0) : 0);
    });
  });
}

const { url, tls } = target();
try {
  const status = await check(url, tls);
  console.log(STATUS_NAMES[status] ?? `status ${status}`);
  process.exitCode = status === 1 ? 0 : 1;
} catch (error) {
  console.error(`health check of ${url} failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
