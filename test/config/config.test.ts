// loadConfig: defaults, parsing, and errors that name variable, value and range.

import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";

describe("loadConfig", () => {
  it("gives every variable its documented default", () => {
    expect(loadConfig({})).toEqual({
      serviceHost: "0.0.0.0",
      servicePort: 8002,
      logLevel: "info",
      modelsDir: "models",
      piperModelName: "en_US-joe-medium",
      maxLoadedVoices: 3,
      maxTextLength: 5000,
      streamChunkSize: 16384,
      streamingIdleTimeoutSeconds: 30,
      streamingMaxDurationSeconds: 3600,
      streamingMaxBufferDelayMs: 1000,
      streamingMaxBufferedCharacters: 500,
      cacheEnabled: true,
      cacheDir: ".cache/tts",
      cacheSizeMb: 500,
      cacheMaxEntries: 10000,
      cacheTtlSeconds: 86400,
      redisUrl: undefined,
      redisSizeRefreshSeconds: 30,
      maxConcurrentRequests: 2,
      maxQueueSize: 32,
      maxQueuePerClient: 8,
      maxRequestsPerMinute: 0,
      authFailuresPerMinute: 30,
      shutdownGraceSeconds: 25,
      onnxIntraOpThreads: 1,
      maxRequestBytes: 65536,
      http2MaxConcurrentStreams: 100,
      http2KeepaliveIntervalSeconds: 60,
      http2KeepaliveTimeoutSeconds: 20,
      http2IdleTimeoutSeconds: 300,
      http1HeadersTimeoutSeconds: 20,
      http1RequestTimeoutSeconds: 60,
      healthPort: undefined,
      metricsPublic: false,
      apiKeys: [],
      adminApiKeys: [],
      tls: undefined,
      corsOrigins: [],
      lexiconsDir: undefined,
      defaultLexicons: [],
    });
  });

  it("reads the lexicon folder and the default lexicons, in order and without repeats", () => {
    expect(loadConfig({ LEXICONS_DIR: "/etc/tts/lexicons", DEFAULT_LEXICONS: "brand, medical,brand" })).toMatchObject({
      lexiconsDir: "/etc/tts/lexicons",
      defaultLexicons: ["brand", "medical"],
    });
  });

  it.each([
    [{ DEFAULT_LEXICONS: "brand" }, 'DEFAULT_LEXICONS="brand" is invalid: expected no lexicon names, since LEXICONS_DIR is unset'],
    [
      { LEXICONS_DIR: "lexicons", DEFAULT_LEXICONS: "brand,../etc/passwd" },
      'DEFAULT_LEXICONS="brand,../etc/passwd" is invalid: expected comma-separated lexicon names (file names without .pls) of 1 to 64 characters from A-Z a-z 0-9 _ -',
    ],
  ])("refuses %o", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("returns a frozen object", () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });

  it("reads set values and treats empty ones as unset", () => {
    const config = loadConfig({
      SERVICE_PORT: "9000",
      LOG_LEVEL: "debug",
      CACHE_ENABLED: "false",
      REDIS_URL: "redis://cache:6379/0",
      MAX_REQUESTS_PER_MINUTE: "600",
      MODELS_DIR: "",
    });
    expect(config).toMatchObject({
      servicePort: 9000,
      logLevel: "debug",
      cacheEnabled: false,
      redisUrl: "redis://cache:6379/0",
      maxRequestsPerMinute: 600,
      modelsDir: "models",
    });
  });

  it.each([
    [{ SERVICE_PORT: "abc" }, 'SERVICE_PORT="abc" is invalid: expected an integer from 0 to 65535'],
    [{ SERVICE_PORT: "65536" }, 'SERVICE_PORT="65536" is invalid: expected an integer from 0 to 65535'],
    [{ SERVICE_PORT: "80.5" }, 'SERVICE_PORT="80.5" is invalid: expected an integer from 0 to 65535'],
    [{ MAX_LOADED_VOICES: "0" }, 'MAX_LOADED_VOICES="0" is invalid: expected an integer from 1 to 64'],
    [{ SHUTDOWN_GRACE_SECONDS: "-1" }, 'SHUTDOWN_GRACE_SECONDS="-1" is invalid: expected an integer from 0 to 3600'],
    [{ CACHE_ENABLED: "yes" }, 'CACHE_ENABLED="yes" is invalid: expected "true" or "false"'],
    [{ LOG_LEVEL: "loud" }, 'LOG_LEVEL="loud" is invalid: expected one of fatal, error, warn, info, debug, trace, silent'],
    [{ REDIS_URL: "localhost:6379" }, 'REDIS_URL="localhost:6379" is invalid: expected a redis:// or rediss:// URL'],
  ])("rejects %o", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("sizes MAX_REQUEST_BYTES for MAX_TEXT_LENGTH by default", () => {
    expect(loadConfig({ MAX_TEXT_LENGTH: "100000" }).maxRequestBytes).toBe(404_096);
    expect(loadConfig({ MAX_TEXT_LENGTH: "100000", MAX_REQUEST_BYTES: "2048" }).maxRequestBytes).toBe(2048);
  });

  it("reads API keys, TLS files and CORS origins", () => {
    const config = loadConfig({
      API_KEYS: " user-key-0123456789 , other-key-0123456789,user-key-0123456789",
      ADMIN_API_KEYS: "admin-key-0123456789",
      TLS_CERT_FILE: "/etc/tls/cert.pem",
      TLS_KEY_FILE: "/etc/tls/key.pem",
      CORS_ORIGINS: "https://app.example.com, http://localhost:5173",
    });
    expect(config).toMatchObject({
      apiKeys: ["user-key-0123456789", "other-key-0123456789"],
      adminApiKeys: ["admin-key-0123456789"],
      tls: { certFile: "/etc/tls/cert.pem", keyFile: "/etc/tls/key.pem" },
      corsOrigins: ["https://app.example.com", "http://localhost:5173"],
    });
    expect(loadConfig({ CORS_ORIGINS: "*" }).corsOrigins).toEqual(["*"]);
  });

  it.each([
    [{ MAX_REQUEST_BYTES: "1000" }, 'MAX_REQUEST_BYTES="1000" is invalid: expected an integer from 1024 to 67108864'],
    [{ HTTP2_MAX_CONCURRENT_STREAMS: "0" }, 'HTTP2_MAX_CONCURRENT_STREAMS="0" is invalid: expected an integer from 1 to 10000'],
    [{ REDIS_SIZE_REFRESH_SECONDS: "0" }, 'REDIS_SIZE_REFRESH_SECONDS="0" is invalid: expected an integer from 1 to 86400'],
    [{ HTTP2_KEEPALIVE_TIMEOUT_SECONDS: "0" }, 'HTTP2_KEEPALIVE_TIMEOUT_SECONDS="0" is invalid: expected an integer from 1 to 3600'],
    [{ TLS_CERT_FILE: "cert.pem" }, 'TLS_KEY_FILE="" is invalid: expected a PEM private key file, since TLS_CERT_FILE is set'],
    [{ TLS_KEY_FILE: "key.pem" }, 'TLS_CERT_FILE="" is invalid: expected a PEM certificate file, since TLS_KEY_FILE is set'],
    [{ CORS_ORIGINS: "https://app.example.com/path" }, 'CORS_ORIGINS="https://app.example.com/path" is invalid'],
    [{ CORS_ORIGINS: "*,https://app.example.com" }, 'expected "*" alone'],
  ])("rejects %o", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it.each(["short", "has a space-0123456789", "comma-ok-0123456789,", 'quote"0123456789abcdef'])(
    "rejects the API key %j without showing it",
    (key) => {
      for (const variable of ["API_KEYS", "ADMIN_API_KEYS"]) {
        let message = "";
        try {
          loadConfig({ [variable]: key });
        } catch (error) {
          message = (error as Error).message;
        }
        expect(message).toMatch(new RegExp(`^${variable}="<entry \\d hidden>" is invalid`));
        for (const part of key.split(/[ ,"]/).filter((p) => p.length > 2)) expect(message).not.toContain(part);
      }
    },
  );

  it("reads the HTTP/1.1 timeouts, HEALTH_PORT and METRICS_PUBLIC, and refuses what cannot work", () => {
    expect(
      loadConfig({ HTTP1_HEADERS_TIMEOUT_SECONDS: "5", HTTP1_REQUEST_TIMEOUT_SECONDS: "5", HEALTH_PORT: "8003", METRICS_PUBLIC: "true" }),
    ).toMatchObject({ http1HeadersTimeoutSeconds: 5, http1RequestTimeoutSeconds: 5, healthPort: 8003, metricsPublic: true });
    // 0 picks a free port, like SERVICE_PORT=0.
    expect(loadConfig({ HEALTH_PORT: "0" }).healthPort).toBe(0);
    expect(() => loadConfig({ HTTP1_HEADERS_TIMEOUT_SECONDS: "30", HTTP1_REQUEST_TIMEOUT_SECONDS: "10" })).toThrow(
      'HTTP1_REQUEST_TIMEOUT_SECONDS="10" is invalid: expected an integer from 30 to 3600',
    );
    expect(() => loadConfig({ HTTP1_HEADERS_TIMEOUT_SECONDS: "0" })).toThrow(
      'HTTP1_HEADERS_TIMEOUT_SECONDS="0" is invalid: expected an integer from 1 to 3600',
    );
    expect(() => loadConfig({ HEALTH_PORT: "8002" })).toThrow(
      'HEALTH_PORT="8002" is invalid: expected a port other than SERVICE_PORT (8002)',
    );
    expect(() => loadConfig({ HEALTH_PORT: "70000" })).toThrow('HEALTH_PORT="70000" is invalid: expected an integer from 0 to 65535');
    expect(() => loadConfig({ METRICS_PUBLIC: "yes" })).toThrow('METRICS_PUBLIC="yes" is invalid: expected "true" or "false"');
  });

  it("keeps a password out of the REDIS_URL error", () => {
    expect(() => loadConfig({ REDIS_URL: "http://user:hunter2@cache:6379" })).toThrow('REDIS_URL="http://***@cache:6379" is invalid');
  });
});
