// The service's configuration: every environment variable the service reads is
// read here, once, validated, and handed out as one frozen, typed object.

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export interface Config {
  readonly serviceHost: string;
  readonly servicePort: number;
  readonly logLevel: LogLevel;
  readonly modelsDir: string;
  readonly piperModelName: string;
  readonly maxLoadedVoices: number;
  readonly maxTextLength: number;
  readonly streamChunkSize: number;
  readonly cacheEnabled: boolean;
  readonly cacheDir: string;
  readonly cacheSizeMb: number;
  readonly cacheMaxEntries: number;
  readonly cacheTtlSeconds: number;
  /** Undefined when REDIS_URL is unset: the Redis cache tier is off. */
  readonly redisUrl: string | undefined;
  readonly maxConcurrentRequests: number;
  readonly maxQueueSize: number;
  /** 0 turns rate limiting off. */
  readonly maxRequestsPerMinute: number;
  readonly shutdownGraceSeconds: number;
  readonly onnxIntraOpThreads: number;
}

/** A configuration value is invalid; the message names variable, value and what is allowed. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";

  constructor(variable: string, value: string, allowed: string) {
    super(`${variable}=${JSON.stringify(value)} is invalid: expected ${allowed}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates the configuration. An unset or empty variable takes its
 * default. Throws ConfigError on the first invalid value.
 */
export function loadConfig(env: Env = process.env): Config {
  const read = new EnvReader(env);
  return Object.freeze({
    serviceHost: read.string("SERVICE_HOST", "0.0.0.0"),
    servicePort: read.integer("SERVICE_PORT", 8002, 0, 65_535),
    logLevel: read.oneOf("LOG_LEVEL", "info", LOG_LEVELS),
    modelsDir: read.string("MODELS_DIR", "models"),
    piperModelName: read.string("PIPER_MODEL_NAME", "en_US-joe-medium"),
    maxLoadedVoices: read.integer("MAX_LOADED_VOICES", 3, 1, 64),
    maxTextLength: read.integer("MAX_TEXT_LENGTH", 5000, 1, 1_000_000),
    // gRPC clients refuse messages over 4 MiB by default.
    streamChunkSize: read.integer("STREAM_CHUNK_SIZE", 16_384, 1024, 4 * 1024 * 1024 - 1024),
    cacheEnabled: read.boolean("CACHE_ENABLED", true),
    cacheDir: read.string("CACHE_DIR", ".cache/tts"),
    cacheSizeMb: read.integer("CACHE_SIZE_MB", 500, 1, 1_048_576),
    cacheMaxEntries: read.integer("CACHE_MAX_ENTRIES", 10_000, 1, 100_000_000),
    cacheTtlSeconds: read.integer("CACHE_TTL_SECONDS", 86_400, 1, 31_536_000),
    redisUrl: read.optionalRedisUrl("REDIS_URL"),
    maxConcurrentRequests: read.integer("MAX_CONCURRENT_REQUESTS", 2, 1, 256),
    maxQueueSize: read.integer("MAX_QUEUE_SIZE", 32, 0, 100_000),
    maxRequestsPerMinute: read.integer("MAX_REQUESTS_PER_MINUTE", 0, 0, 1_000_000),
    shutdownGraceSeconds: read.integer("SHUTDOWN_GRACE_SECONDS", 25, 0, 3600),
    onnxIntraOpThreads: read.integer("ONNX_INTRA_OP_THREADS", 1, 1, 256),
  });
}

class EnvReader {
  constructor(private readonly env: Env) {}

  private raw(variable: string): string | undefined {
    const value = this.env[variable];
    return value === undefined || value === "" ? undefined : value;
  }

  string(variable: string, fallback: string): string {
    return this.raw(variable) ?? fallback;
  }

  integer(variable: string, fallback: number, min: number, max: number): number {
    const value = this.raw(variable);
    if (value === undefined) return fallback;
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!(parsed >= min && parsed <= max)) {
      throw new ConfigError(variable, value, `an integer from ${min} to ${max}`);
    }
    return parsed;
  }

  boolean(variable: string, fallback: boolean): boolean {
    const value = this.raw(variable);
    if (value === undefined) return fallback;
    if (value === "true") return true;
    if (value === "false") return false;
    throw new ConfigError(variable, value, `"true" or "false"`);
  }

  oneOf<T extends string>(variable: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(variable);
    if (value === undefined) return fallback;
    const match = allowed.find((candidate) => candidate === value);
    if (match === undefined) throw new ConfigError(variable, value, `one of ${allowed.join(", ")}`);
    return match;
  }

  optionalRedisUrl(variable: string): string | undefined {
    const value = this.raw(variable);
    if (value === undefined) return undefined;
    if (!URL.canParse(value) || !["redis:", "rediss:"].includes(new URL(value).protocol)) {
      // The URL may carry a password: keep it out of the message.
      throw new ConfigError(variable, value.replace(/\/\/[^/]*@/, "//***@"), "a redis:// or rediss:// URL");
    }
    return value;
  }
}
