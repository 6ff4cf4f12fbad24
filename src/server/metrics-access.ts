// Who may read GET /metrics. With API keys off it is open, like everything else. With
// them on it needs a key (checked, and rate-limited, like any call), unless METRICS_PUBLIC
// opens it: a scraper inside the cluster then needs no secret, but anyone who reaches
// the port can read the service's figures.

import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import type { Access } from "./access.js";
import { toConnectError } from "./errors.js";
import type { HttpRoute } from "./routes.js";

const METRICS_PATH = "/metrics";

/** `serve` answers /metrics (and 404 for any other path it is given). */
export function metricsRoute(serve: HttpRoute, access: Access, isPublic: boolean): HttpRoute {
  if (isPublic) return serve;
  return (req, res) => {
    if ((req.url ?? "").split("?")[0] !== METRICS_PATH) return serve(req, res);
    try {
      access.check({
        service: "metrics",
        method: `GET ${METRICS_PATH}`,
        authorization: req.headers.authorization,
        peer: req.socket?.remoteAddress ?? "unknown",
      });
    } catch (err) {
      const error = toConnectError(err);
      res.writeHead(codeToHttpStatus(error.code), { "content-type": "text/plain; charset=utf-8", "www-authenticate": "Bearer" });
      res.end(`${error.rawMessage}\n`);
      return;
    }
    serve(req, res);
  };
}
