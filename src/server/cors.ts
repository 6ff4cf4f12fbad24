// CORS for browsers calling over Connect or gRPC-Web from the origins in CORS_ORIGINS:
// preflights are answered here, and responses to allowed origins expose the headers the
// protocols and this service send. The header lists are Connect's own (cors from
// @connectrpc/connect); the handling is the `cors` package's.

import { cors as connectCors } from "@connectrpc/connect";
import corsMiddleware from "cors";
import { RETRY_AFTER_HEADER } from "./status.js";
import type { RequestHandler } from "./listener.js";

const REQUEST_ID_HEADER = "x-request-id";

/** Browsers may cache a preflight answer this long, in seconds. */
const PREFLIGHT_MAX_AGE_SECONDS = 7200;

/** `origins`: exact origins, or ["*"] for any; empty leaves the handler as it is. */
export function withCors(origins: readonly string[], handler: RequestHandler): RequestHandler {
  if (origins.length === 0) return handler;
  const middleware = corsMiddleware({
    origin: origins[0] === "*" ? "*" : [...origins],
    methods: [...connectCors.allowedMethods],
    allowedHeaders: [...connectCors.allowedHeaders, "Authorization", REQUEST_ID_HEADER],
    exposedHeaders: [...connectCors.exposedHeaders, REQUEST_ID_HEADER, RETRY_AFTER_HEADER],
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  });
  return (req, res) => middleware(req as never, res as never, () => handler(req, res));
}
