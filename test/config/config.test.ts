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
      cacheEnabled: true,
      cacheDir: ".cache/tts",
      cacheSizeMb: 500,
      cacheMaxEntries: 10000,
      cacheTtlSeconds: 86400,
      redisUrl: undefined,
      maxConcurrentRequests: 2,
      maxQueueSize: 32,
      maxRequestsPerMinute: 0,
      shutdownGraceSeconds: 25,
      onnxIntraOpThreads: 1,
    });
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

  it("keeps a password out of the REDIS_URL error", () => {
    expect(() => loadConfig({ REDIS_URL: "http://user:hunter2@cache:6379" })).toThrow(
      'REDIS_URL="http://***@cache:6379" is invalid',
    );
  });
});
