// Entry point: configuration, logger, server, and shutdown on SIGTERM/SIGINT.

import { pino } from "pino";
import { ConfigError, loadConfig, type Config } from "../config/index.js";
import { createApp } from "./app.js";

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
const app = await createApp(config, logger);

let stopping: Promise<void> | undefined;
function stop(signal: NodeJS.Signals): void {
  stopping ??= (async () => {
    // close() stops accepting connections before it first yields; logging after it means
    // a client that reads this line and then connects is refused, not reset.
    const closed = app.close();
    logger.info({ signal, grace_seconds: config.shutdownGraceSeconds }, "shutting down");
    await closed;
    logger.info("stopped");
    process.exit(0);
  })();
}
process.once("SIGTERM", stop);
process.once("SIGINT", stop);

try {
  await app.listen();
  await app.ready();
} catch (err) {
  // A shutdown that began while the voice was loading ends the start-up; it is not a failure.
  if (!stopping) {
    logger.fatal({ err }, "cannot start");
    process.exit(1);
  }
}
