/** The service's configuration, read from the environment once. */
export { type Config, ConfigError, LEXICON_NAME, type LogLevel, loadConfig } from "./config.js";
