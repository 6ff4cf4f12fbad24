// Starts the real service in-process on an ephemeral port (the same composition as
// `npm start`: engine, voices, cache, server) and captures its log lines.

import { Writable } from "node:stream";
import { ConnectError } from "@connectrpc/connect";
import { pino } from "pino";
import { loadConfig, type Config } from "../../src/config/config.js";
import { createApp, type App } from "../../src/server/app.js";
import type { HealthReporter } from "../../src/server/health.js";
import type { Server } from "../../src/server/server.js";

export interface RunningServer {
  readonly app: App;
  readonly server: Server;
  readonly health: HealthReporter;
  readonly config: Config;
  readonly baseUrl: string;
  /** Every log line written so far, parsed. */
  readonly logLines: Record<string, unknown>[];
}

/**
 * `ready: false` leaves the service NOT_SERVING with no voice loaded, for tests of
 * readiness itself. The cache is off unless `env` turns it on, so tests do not share
 * state through .cache/.
 */
export async function startServer(env: Record<string, string> = {}, { ready = true } = {}): Promise<RunningServer> {
  const config = loadConfig({ SERVICE_HOST: "127.0.0.1", SERVICE_PORT: "0", SHUTDOWN_GRACE_SECONDS: "5", CACHE_ENABLED: "false", ...env });
  const logLines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const app = await createApp(config, pino({ level: "info" }, sink));
  const port = await app.listen();
  if (ready) await app.ready();
  return { app, server: app.server, health: app.health, config, baseUrl: `http://127.0.0.1:${port}`, logLines };
}

/** The ConnectError a call fails with; throws when the call succeeds. */
export async function callError(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ConnectError) return err;
    throw err;
  }
  throw new Error("the call succeeded");
}
