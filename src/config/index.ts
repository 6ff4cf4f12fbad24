/** The service's configuration, read from the environment once. */
export { type Config, ConfigError, type LogLevel, loadConfig } from "./config.js";
