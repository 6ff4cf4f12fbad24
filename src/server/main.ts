// Entry point: configuration, logger, server, and shutdown on SIGTERM/SIGINT.

import { pino } from "pino";
import { ConfigError, loadConfig, type Config } from "../config/config.js";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { HealthReporter } from "./health.js";
import { createServer } from "./server.js";
import { createTtsService } from "./tts-service.js";

function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`aetheros-tts: ${err.message}\n`);
    process.exit(1);
  }
}

const config = loadConfigOrExit();
const logger = pino({ level: config.logLevel });
const health = new HealthReporter([TtsService.typeName]);
const server = createServer(config, { logger, health, tts: createTtsService(config, health) });

let stopping: Promise<void> | undefined;
function stop(signal: NodeJS.Signals): void {
  stopping ??= (async () => {
    logger.info({ signal, grace_seconds: config.shutdownGraceSeconds }, "shutting down");
    await server.close();
    logger.info("stopped");
    process.exit(0);
  })();
}
process.once("SIGTERM", stop);
process.once("SIGINT", stop);

try {
  const port = await server.listen();
  logger.info({ host: config.serviceHost, port }, "listening");
} catch (err) {
  logger.fatal({ err }, "cannot listen");
  process.exit(1);
}
health.markServing();
