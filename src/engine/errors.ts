/**
 * Typed errors raised below the transport. Each carries a gRPC-style `code` name; the
 * server maps it to a status in one place (src/server/errors.ts). Messages are written
 * for the caller: they name the field or file, the value, and what is allowed.
 */
export type ErrorCode =
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "FAILED_PRECONDITION"
  | "RESOURCE_EXHAUSTED"
  | "UNAVAILABLE"
  | "DEADLINE_EXCEEDED"
  | "CANCELLED"
  | "UNAUTHENTICATED"
  | "PERMISSION_DENIED"
  | "INTERNAL";

export class TtsError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A request field is out of range or malformed. */
export class InvalidArgumentError extends TtsError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super("INVALID_ARGUMENT", message);
  }
}

/** The text has nothing a voice can say (no phonemes after phonemization). */
export class NothingToSpeakError extends TtsError {
  constructor(readonly text: string) {
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    super("INVALID_ARGUMENT", `text: nothing speakable in ${JSON.stringify(shown)} (it produced no phonemes)`);
  }
}

/** No installed voice has the requested id. */
export class VoiceNotFoundError extends TtsError {
  constructor(voice: string, installed: readonly string[]) {
    const list = installed.length ? installed.join(", ") : "none installed";
    super("NOT_FOUND", `config.voice: no voice named ${JSON.stringify(voice)}; installed voices: ${list}`);
  }
}

/** A voice's files are missing, truncated, corrupt or inconsistent. */
export class VoiceLoadError extends TtsError {
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super("FAILED_PRECONDITION", `voice file ${file}: ${problem}`, options);
  }
}

/** The caller cancelled or its deadline passed while the work was pending. */
export class AbortedError extends TtsError {
  constructor(reason: "cancelled" | "deadline") {
    super(
      reason === "deadline" ? "DEADLINE_EXCEEDED" : "CANCELLED",
      `synthesis stopped: ${reason === "deadline" ? "deadline exceeded" : "cancelled by the client"}`,
    );
  }
  /**
   * Why an aborted signal stopped the work. A deadline is AbortSignal.timeout()'s
   * TimeoutError or Connect's own deadline reason (status code 4, DEADLINE_EXCEEDED).
   */
  static of(signal: AbortSignal): AbortedError {
    const reason = signal.reason as { name?: string; code?: unknown } | undefined;
    return new AbortedError(reason?.name === "TimeoutError" || reason?.code === 4 ? "deadline" : "cancelled");
  }
}

/**
 * Too much at once: the synthesis queue is full, or the client is over its per-minute
 * limit. `retryAfterMs` is when a retry has a fair chance; the client receives it as the
 * `retry-after-ms` response metadata (a trailer in gRPC and gRPC-Web, a header in Connect
 * unary).
 */
export class OverloadedError extends TtsError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super("RESOURCE_EXHAUSTED", message);
  }
}

/** The call carries no API key, or one the server does not know. */
export class UnauthenticatedError extends TtsError {
  constructor(message: string) {
    super("UNAUTHENTICATED", message);
  }
}

/** The API key is valid but not allowed to call this method. */
export class PermissionDeniedError extends TtsError {
  constructor(message: string) {
    super("PERMISSION_DENIED", message);
  }
}
