// Who may call what, and how often: API keys (`authorization: Bearer <key>`), the
// admin-only methods, the per-client request rate, and a per-address budget of failed
// authentications so that keys cannot be guessed at line rate. grpc.health.v1 and server
// reflection are open to everyone and never limited, so probes and tooling keep working.

import { createHash, timingSafeEqual } from "node:crypto";
import { LRUCache } from "lru-cache";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { OverloadedError, PermissionDeniedError, UnauthenticatedError } from "../errors/index.js";

// Services every caller may use without a key and without counting against a limit: probes,
// tooling, and the browser page's own files (its calls to the RPCs carry the key).
const OPEN_SERVICES = new Set([Health.typeName, "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection", "page"]);

// Methods only admin keys may call.
const ADMIN_METHODS = new Set([`${TtsService.typeName}/ClearCache`]);

const BEARER = /^Bearer ([^\s]+)$/i;

export interface AccessOptions {
  apiKeys: readonly string[];
  adminApiKeys: readonly string[];
  /** 0 turns the limit off. */
  maxRequestsPerMinute: number;
  /** Failed authentications one address may make a minute before it is refused outright. */
  authFailuresPerMinute: number;
}

/** Why a caller was not let in, as the aetheros_tts_auth_failures_total metric counts it. */
export type AuthFailure = "missing_key" | "invalid_key" | "address_blocked";

/** Who is calling what: the same fields for an RPC and for a plain HTTP route. */
export interface Caller {
  /** The RPC's fully qualified service name, or a name for a group of HTTP routes ("openai"). */
  readonly service: string;
  /** The RPC's method name ("Synthesize"), or the HTTP method and path ("POST /v1/audio/speech"). */
  readonly method: string;
  /** The authorization header as sent; null or undefined when absent. */
  readonly authorization: string | null | undefined;
  /** The peer's IP address. */
  readonly peer: string;
}

export interface Access {
  /**
   * Throws UnauthenticatedError, PermissionDeniedError or OverloadedError (typed, mapped in
   * status.ts like any other) when the caller may not go on. Returns who the caller is, for
   * its budgets and shares: "key <SHA-256 of its key>" when keys are on, else "peer <address>".
   */
  check(caller: Caller): string;
}

/**
 * Checks the API key (when API_KEYS or ADMIN_API_KEYS is set) and then the caller's
 * request rate (when MAX_REQUESTS_PER_MINUTE is above 0). Errors are typed and mapped
 * like any other: UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED with a retry hint.
 * Keys are compared by their SHA-256 in constant time and never logged or echoed. An
 * address past AUTH_FAILURES_PER_MINUTE failed authentications is refused with
 * RESOURCE_EXHAUSTED before its key is even looked at, until its budget refills.
 * One Access serves the RPCs and the HTTP routes, so they share each client's budgets.
 */
export function createAccess(options: AccessOptions, onFailure: (failure: AuthFailure) => void): Access {
  const keys = new KeyRing(options.apiKeys, options.adminApiKeys);
  const { maxRequestsPerMinute: calls, authFailuresPerMinute: failed } = options;
  const limiter =
    calls > 0
      ? new RateLimiter(calls, `rate limit: at most ${calls} calls a minute per client (MAX_REQUESTS_PER_MINUTE); retry later`)
      : undefined;
  const failures = new RateLimiter(
    failed,
    `too many failed authentications from this address: at most ${failed} a minute (AUTH_FAILURES_PER_MINUTE); retry later`,
  );
  const check = (caller: Caller): string => {
    let client = `peer ${caller.peer}`;
    if (OPEN_SERVICES.has(caller.service)) return client;
    if (keys.enabled) {
      try {
        failures.check(caller.peer);
      } catch (error) {
        onFailure("address_blocked");
        throw error;
      }
      const presented = BEARER.exec(caller.authorization ?? "")?.[1];
      const role = presented === undefined ? undefined : keys.roleOf(presented);
      if (presented === undefined || role === undefined) {
        onFailure(presented === undefined ? "missing_key" : "invalid_key");
        // Spent from the address's budget; the call that empties it is still answered 401.
        failures.spend(caller.peer);
        throw new UnauthenticatedError(
          presented === undefined ? "missing API key: send the header authorization: Bearer <key>" : "invalid API key",
        );
      }
      if (role !== "admin" && ADMIN_METHODS.has(`${caller.service}/${caller.method}`)) {
        throw new PermissionDeniedError(`${caller.method} needs an admin API key (ADMIN_API_KEYS)`);
      }
      client = `key ${fingerprint(presented).toString("hex")}`;
    }
    limiter?.take(client);
    return client;
  };
  return { check };
}

function fingerprint(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

class KeyRing {
  private readonly entries: { digest: Buffer; role: "user" | "admin" }[];

  constructor(apiKeys: readonly string[], adminApiKeys: readonly string[]) {
    this.entries = [
      ...adminApiKeys.map((key) => ({ digest: fingerprint(key), role: "admin" as const })),
      ...apiKeys.map((key) => ({ digest: fingerprint(key), role: "user" as const })),
    ];
  }

  get enabled(): boolean {
    return this.entries.length > 0;
  }

  roleOf(key: string): "user" | "admin" | undefined {
    const digest = fingerprint(key);
    // Every entry is compared, so the time taken does not tell which one matched.
    let role: "user" | "admin" | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, digest) && role !== "admin") role = entry.role;
    }
    return role;
  }
}

/**
 * A token bucket per client: `perMinute` tokens in a burst, refilled evenly over the
 * minute. A client idle for a minute has a full bucket again, so buckets are forgotten
 * after a minute (and the least recently seen first, past MAX_CLIENTS).
 */
class RateLimiter {
  private static readonly MAX_CLIENTS = 100_000;
  private readonly buckets: LRUCache<string, { tokens: number; at: number }>;
  private readonly refillPerMs: number;

  constructor(
    private readonly perMinute: number,
    /** The message a refused client gets. */
    private readonly refusal: string,
  ) {
    this.refillPerMs = perMinute / 60_000;
    this.buckets = new LRUCache({ max: RateLimiter.MAX_CLIENTS, ttl: 60_000, ttlAutopurge: false });
  }

  /** Takes one token from the client's bucket, or throws OverloadedError when it is empty. */
  take(client: string): void {
    this.check(client);
    this.spend(client);
  }

  /** Throws OverloadedError, with the time until a token is back, when the client's bucket is empty. */
  check(client: string): void {
    const bucket = this.bucket(client);
    if (bucket.tokens >= 1) return;
    throw new OverloadedError(this.refusal, (1 - bucket.tokens) / this.refillPerMs);
  }

  /** Takes one token, if there is one. */
  spend(client: string): void {
    const bucket = this.bucket(client);
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.buckets.set(client, bucket);
  }

  /** The client's bucket, refilled for the time since it was last seen. */
  private bucket(client: string): { tokens: number; at: number } {
    const now = performance.now();
    const bucket = this.buckets.get(client) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.refillPerMs);
    bucket.at = now;
    return bucket;
  }
}
