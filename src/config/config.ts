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
  /** StreamingSynthesize: seconds without input (and nothing left to speak) before a stream is ended. */
  readonly streamingIdleTimeoutSeconds: number;
  /** StreamingSynthesize: longest life of one stream, in seconds. */
  readonly streamingMaxDurationSeconds: number;
  /** StreamingSynthesize: default wait for more text before buffered text is spoken anyway. */
  readonly streamingMaxBufferDelayMs: number;
  /** StreamingSynthesize: default characters buffered before they are spoken without a sentence end. */
  readonly streamingMaxBufferedCharacters: number;
  readonly cacheEnabled: boolean;
  readonly cacheDir: string;
  readonly cacheSizeMb: number;
  readonly cacheMaxEntries: number;
  readonly cacheTtlSeconds: number;
  /** Undefined when REDIS_URL is unset: the Redis cache tier is off. */
  readonly redisUrl: string | undefined;
  /** Seconds between estimates of the Redis tier's entries and bytes (read by stats, metrics and Health). */
  readonly redisSizeRefreshSeconds: number;
  readonly maxConcurrentRequests: number;
  readonly maxQueueSize: number;
  /** Syntheses one client (API key, else address) may have waiting. */
  readonly maxQueuePerClient: number;
  /** 0 turns rate limiting off. */
  readonly maxRequestsPerMinute: number;
  /** Failed authentications an address may make a minute before it is refused outright. */
  readonly authFailuresPerMinute: number;
  readonly shutdownGraceSeconds: number;
  readonly onnxIntraOpThreads: number;
  /** Largest request message accepted, in bytes (Connect's readMaxBytes). */
  readonly maxRequestBytes: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS announced to every HTTP/2 client. */
  readonly http2MaxConcurrentStreams: number;
  /** Seconds between the server's keepalive PINGs on an HTTP/2 connection; 0 sends none. */
  readonly http2KeepaliveIntervalSeconds: number;
  /** Seconds a keepalive PING may go unanswered before the connection is dropped. */
  readonly http2KeepaliveTimeoutSeconds: number;
  /** Seconds an HTTP/2 connection may stay without a stream before it is closed; 0 never. */
  readonly http2IdleTimeoutSeconds: number;
  /** Seconds an HTTP/1.1 request may take to send all its headers (else 408, connection closed). */
  readonly http1HeadersTimeoutSeconds: number;
  /** Seconds an HTTP/1.1 request may take to send headers and body (else 408); at least the headers timeout. */
  readonly http1RequestTimeoutSeconds: number;
  /** Port of the plaintext listener answering grpc.health.v1 only (kubelet's probes with TLS on); undefined: none. */
  readonly healthPort: number | undefined;
  /** Whether GET /metrics answers without an API key when API keys are on. */
  readonly metricsPublic: boolean;
  /** Keys accepted in `authorization: Bearer <key>`; empty (with adminApiKeys) turns auth off. */
  readonly apiKeys: readonly string[];
  /** Keys that may also call ClearCache. */
  readonly adminApiKeys: readonly string[];
  /** TLS certificate and key (PEM files); undefined: cleartext. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** Origins browsers may call from; ["*"] allows any; empty turns CORS off. */
  readonly corsOrigins: readonly string[];
  /** Folder of pronunciation lexicons (`<name>.pls`, W3C PLS 1.0); undefined: none. */
  readonly lexiconsDir: string | undefined;
  /** Lexicons applied to every request that names none of its own, in order. */
  readonly defaultLexicons: readonly string[];
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
  const maxTextLength = read.integer("MAX_TEXT_LENGTH", 5000, 1, 1_000_000);
  const servicePort = read.integer("SERVICE_PORT", 8002, 0, 65_535);
  const http1HeadersTimeoutSeconds = read.integer("HTTP1_HEADERS_TIMEOUT_SECONDS", 20, 1, 3600);
  const maxQueueSize = read.integer("MAX_QUEUE_SIZE", 32, 0, 100_000);
  const lexiconsDir = read.optionalString("LEXICONS_DIR");
  return Object.freeze({
    serviceHost: read.string("SERVICE_HOST", "0.0.0.0"),
    servicePort,
    logLevel: read.oneOf("LOG_LEVEL", "info", LOG_LEVELS),
    modelsDir: read.string("MODELS_DIR", "models"),
    piperModelName: read.string("PIPER_MODEL_NAME", "en_US-joe-medium"),
    maxLoadedVoices: read.integer("MAX_LOADED_VOICES", 3, 1, 64),
    maxTextLength,
    // gRPC clients refuse messages over 4 MiB by default.
    streamChunkSize: read.integer("STREAM_CHUNK_SIZE", 16_384, 1024, 4 * 1024 * 1024 - 1024),
    streamingIdleTimeoutSeconds: read.integer("STREAMING_IDLE_TIMEOUT_SECONDS", 30, 1, 3600),
    streamingMaxDurationSeconds: read.integer("STREAMING_MAX_DURATION_SECONDS", 3600, 1, 86_400),
    streamingMaxBufferDelayMs: read.integer("STREAMING_MAX_BUFFER_DELAY_MS", 1000, 20, 10_000),
    streamingMaxBufferedCharacters: read.integer("STREAMING_MAX_BUFFERED_CHARACTERS", Math.min(500, maxTextLength), 20, maxTextLength),
    cacheEnabled: read.boolean("CACHE_ENABLED", true),
    cacheDir: read.string("CACHE_DIR", ".cache/tts"),
    cacheSizeMb: read.integer("CACHE_SIZE_MB", 500, 1, 1_048_576),
    cacheMaxEntries: read.integer("CACHE_MAX_ENTRIES", 10_000, 1, 100_000_000),
    cacheTtlSeconds: read.integer("CACHE_TTL_SECONDS", 86_400, 1, 31_536_000),
    redisUrl: read.optionalRedisUrl("REDIS_URL"),
    redisSizeRefreshSeconds: read.integer("REDIS_SIZE_REFRESH_SECONDS", 30, 1, 86_400),
    maxConcurrentRequests: read.integer("MAX_CONCURRENT_REQUESTS", 2, 1, 256),
    maxQueueSize,
    // By default a quarter of the queue: four clients can fill it, one cannot.
    maxQueuePerClient: read.integer("MAX_QUEUE_PER_CLIENT", Math.max(1, Math.ceil(maxQueueSize / 4)), 1, 100_000),
    maxRequestsPerMinute: read.integer("MAX_REQUESTS_PER_MINUTE", 0, 0, 1_000_000),
    authFailuresPerMinute: read.integer("AUTH_FAILURES_PER_MINUTE", 30, 1, 1_000_000),
    shutdownGraceSeconds: read.integer("SHUTDOWN_GRACE_SECONDS", 25, 0, 3600),
    onnxIntraOpThreads: read.integer("ONNX_INTRA_OP_THREADS", 1, 1, 256),
    // By default room for MAX_TEXT_LENGTH characters of 4 UTF-8 bytes and the config.
    maxRequestBytes: read.integer("MAX_REQUEST_BYTES", Math.max(65_536, 4 * maxTextLength + 4096), 1024, 64 * 1024 * 1024),
    http2MaxConcurrentStreams: read.integer("HTTP2_MAX_CONCURRENT_STREAMS", 100, 1, 10_000),
    http2KeepaliveIntervalSeconds: read.integer("HTTP2_KEEPALIVE_INTERVAL_SECONDS", 60, 0, 86_400),
    http2KeepaliveTimeoutSeconds: read.integer("HTTP2_KEEPALIVE_TIMEOUT_SECONDS", 20, 1, 3600),
    http2IdleTimeoutSeconds: read.integer("HTTP2_IDLE_TIMEOUT_SECONDS", 300, 0, 86_400),
    http1HeadersTimeoutSeconds,
    // Node refuses a request timeout shorter than the headers timeout.
    http1RequestTimeoutSeconds: read.integer("HTTP1_REQUEST_TIMEOUT_SECONDS", 60, http1HeadersTimeoutSeconds, 3600),
    healthPort: read.optionalPort("HEALTH_PORT", servicePort),
    metricsPublic: read.boolean("METRICS_PUBLIC", false),
    apiKeys: read.secretList("API_KEYS"),
    adminApiKeys: read.secretList("ADMIN_API_KEYS"),
    tls: read.tls("TLS_CERT_FILE", "TLS_KEY_FILE"),
    corsOrigins: read.origins("CORS_ORIGINS"),
    lexiconsDir,
    defaultLexicons: read.lexiconNames("DEFAULT_LEXICONS", lexiconsDir),
  });
}

/** A lexicon's name: its file name without ".pls". */
export const LEXICON_NAME = /^[A-Za-z0-9_-]{1,64}$/;

// RFC 6750's b64token, the characters a bearer token may have, at a length worth guessing.
const API_KEY = /^[A-Za-z0-9._~+/=-]{16,256}$/;

class EnvReader {
  constructor(private readonly env: Env) {}

  private raw(variable: string): string | undefined {
    const value = this.env[variable];
    return value === undefined || value === "" ? undefined : value;
  }

  string(variable: string, fallback: string): string {
    return this.raw(variable) ?? fallback;
  }

  optionalString(variable: string): string | undefined {
    return this.raw(variable);
  }

  /** Comma-separated lexicon names, which need a folder to come from. */
  lexiconNames(variable: string, lexiconsDir: string | undefined): readonly string[] {
    const value = this.raw(variable);
    if (value === undefined) return Object.freeze([]);
    if (lexiconsDir === undefined) throw new ConfigError(variable, value, "no lexicon names, since LEXICONS_DIR is unset");
    const names = value.split(",").map((name) => name.trim());
    if (!names.every((name) => LEXICON_NAME.test(name))) {
      throw new ConfigError(
        variable,
        value,
        "comma-separated lexicon names (file names without .pls) of 1 to 64 characters from A-Z a-z 0-9 _ -",
      );
    }
    return Object.freeze([...new Set(names)]);
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

  /** A port other than `servicePort` (0 picks a free one); unset: undefined. */
  optionalPort(variable: string, servicePort: number): number | undefined {
    const value = this.raw(variable);
    if (value === undefined) return undefined;
    const port = this.integer(variable, 0, 0, 65_535);
    if (port !== 0 && port === servicePort) throw new ConfigError(variable, value, `a port other than SERVICE_PORT (${servicePort})`);
    return port;
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

  /** Comma-separated keys. The error never shows a key, only which entry is wrong. */
  secretList(variable: string): readonly string[] {
    const value = this.raw(variable);
    if (value === undefined) return Object.freeze([]);
    const keys = value.split(",").map((key) => key.trim());
    keys.forEach((key, index) => {
      if (!API_KEY.test(key)) {
        throw new ConfigError(
          variable,
          `<entry ${index + 1} hidden>`,
          "comma-separated keys of 16 to 256 characters from A-Z a-z 0-9 . _ ~ + / = -",
        );
      }
    });
    return Object.freeze([...new Set(keys)]);
  }

  /** Both files or neither. */
  tls(certVariable: string, keyVariable: string): { certFile: string; keyFile: string } | undefined {
    const certFile = this.raw(certVariable);
    const keyFile = this.raw(keyVariable);
    if (certFile === undefined && keyFile === undefined) return undefined;
    if (certFile === undefined) throw new ConfigError(certVariable, "", `a PEM certificate file, since ${keyVariable} is set`);
    if (keyFile === undefined) throw new ConfigError(keyVariable, "", `a PEM private key file, since ${certVariable} is set`);
    return Object.freeze({ certFile, keyFile });
  }

  /** Comma-separated origins (scheme://host[:port]) or "*". */
  origins(variable: string): readonly string[] {
    const value = this.raw(variable);
    if (value === undefined) return Object.freeze([]);
    const origins = value.split(",").map((origin) => origin.trim());
    if (origins.includes("*")) {
      if (origins.length > 1)
        throw new ConfigError(variable, value, `"*" alone, or comma-separated origins such as https://app.example.com`);
      return Object.freeze(["*"]);
    }
    for (const origin of origins) {
      if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
        throw new ConfigError(
          variable,
          value,
          `comma-separated origins such as https://app.example.com (scheme, host and port only), or "*"`,
        );
      }
    }
    return Object.freeze(origins);
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
