// Deadlines too long for a timer are no deadline. Node's timers hold at most 2^31 - 1 ms
// (about 24.8 days); a longer one fires at once (TimeoutOverflowWarning), so a client
// asking for, say, a year (grpc-timeout 8760H) would get DEADLINE_EXCEEDED immediately.
// Such a deadline is taken for what the client meant, "no practical deadline": its
// header is removed before Connect reads it. Malformed values are left for Connect to
// refuse (INVALID_ARGUMENT).

import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { RequestHandler } from "./listener.js";

/** The longest delay a Node timer can wait. */
const MAX_TIMER_MS = 2 ** 31 - 1;

// gRPC and gRPC-Web: up to 8 digits and a unit (hours, minutes, seconds, milli-, micro-, nanoseconds).
const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const GRPC_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };
// Connect: up to 10 digits of milliseconds.
const CONNECT_TIMEOUT = /^\d{1,10}$/;

/** The timeout a grpc-timeout or connect-timeout-ms header asks for, in ms; undefined when malformed. */
function requestedTimeoutMs(header: "grpc-timeout" | "connect-timeout-ms", value: string): number | undefined {
  if (header === "connect-timeout-ms") return CONNECT_TIMEOUT.test(value) ? Number(value) : undefined;
  const match = GRPC_TIMEOUT.exec(value);
  return match ? Number(match[1]) * GRPC_UNIT_MS[match[2]!]! : undefined;
}

export function withoutOverflowingDeadlines(handler: RequestHandler): RequestHandler {
  return (req, res) => {
    dropOverflowingDeadline(req, "grpc-timeout");
    dropOverflowingDeadline(req, "connect-timeout-ms");
    handler(req, res);
  };
}

function dropOverflowingDeadline(req: IncomingMessage | Http2ServerRequest, header: "grpc-timeout" | "connect-timeout-ms"): void {
  const value = req.headers[header];
  if (typeof value !== "string") return;
  const timeoutMs = requestedTimeoutMs(header, value);
  if (timeoutMs !== undefined && timeoutMs > MAX_TIMER_MS) delete req.headers[header];
}
