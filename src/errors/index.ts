/**
 * Every error the service raises on purpose, in one module. Each concrete class stands for
 * one status a caller can receive; src/server/status.ts maps them to gRPC codes by class.
 *
 * `message` is written for the caller: it names the field or voice, the value and what is
 * allowed, and never carries server paths or a library's own text. What only an operator
 * should see (absolute paths, onnxruntime's message) goes into `cause`, which the server
 * logs and never sends.
 */
export abstract class ServiceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A request field is out of range or malformed. The message is `<field>: <problem>`. */
export class InvalidArgumentError extends ServiceError {
  constructor(
    /** The field as the request names it ("config.speed"), or "request" for an undecodable message. */
    readonly field: string,
    /** What is wrong and what is allowed, without the field name. */
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${problem}`, options);
  }
}

/** The text (or SSML document) has nothing a voice can say (no phonemes after phonemization). */
export class NothingToSpeakError extends InvalidArgumentError {
  constructor(
    readonly text: string,
    field = "text",
  ) {
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    super(field, `nothing speakable in ${JSON.stringify(shown)} (it produced no phonemes)`);
  }
}

/** The request names something this server does not have: a voice, speaker, language or model. */
export class NotFoundError extends ServiceError {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** No installed voice has the requested id. */
export class VoiceNotFoundError extends NotFoundError {
  constructor(voice: string, installed: readonly string[]) {
    const list = installed.length ? installed.join(", ") : "none installed";
    super("config.voice", `no voice named ${JSON.stringify(voice)}; installed voices: ${list}`);
  }
}

/**
 * A voice's files are missing, truncated, corrupt or inconsistent. The caller sees the
 * file's name and the kind of problem; the path and the library's message stay in `cause`
 * and `file` for the log.
 */
export class VoiceLoadError extends ServiceError {
  constructor(
    /** The file's path on the server: logged, never sent. */
    readonly file: string,
    /** The kind of problem, safe to send ("missing", "not a Piper voice: it has no "input" input"). */
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`voice file ${baseName(file)}: ${problem}`, options);
  }
}

/** The caller cancelled, or its deadline passed, while the work was pending. */
export class AbortedError extends ServiceError {
  constructor(readonly reason: "cancelled" | "deadline") {
    super(`synthesis stopped: ${reason === "deadline" ? "deadline exceeded" : "cancelled by the client"}`);
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

/** A live stream ran past one of its time limits (idle, or its whole length). */
export class StreamTimeoutError extends ServiceError {}

/**
 * Too much at once: the synthesis queue or the caller's share of it is full, the caller is
 * over its request rate, or the request is larger than allowed. `retryAfterMs`, when set,
 * is when a retry has a fair chance.
 */
export class OverloadedError extends ServiceError {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

/** A request body larger than MAX_REQUEST_BYTES. */
export class RequestTooLargeError extends OverloadedError {
  constructor(limit: number) {
    super(`request body: more than ${limit} bytes; allowed at most ${limit} (MAX_REQUEST_BYTES)`, undefined);
  }
}

/** A request body in a content type the route does not take. */
export class UnsupportedMediaTypeError extends InvalidArgumentError {
  constructor(got: string | undefined, allowed: string) {
    super("content-type", `${got === undefined ? "missing" : JSON.stringify(got)} is not accepted; send ${allowed}`);
  }
}

/**
 * The request is valid but names something the server has in a state it cannot use: a
 * pronunciation lexicon whose file is invalid. The message names it and its problem.
 */
export class FailedPreconditionError extends ServiceError {}

/** The call carries no API key, or one the server does not know. */
export class UnauthenticatedError extends ServiceError {}

/** The API key is valid but may not call this method. */
export class PermissionDeniedError extends ServiceError {}

/** The server cannot take calls now: it is starting, shutting down or lost its default voice. */
export class UnavailableError extends ServiceError {}

/** The call asks for something this server does not do (a method, an HTTP verb, a format). */
export class UnimplementedError extends ServiceError {}

/** A plain-HTTP route called with a verb it does not answer. */
export class MethodNotAllowedError extends UnimplementedError {
  constructor(
    got: string,
    path: string,
    readonly allowed: string,
  ) {
    super(`${got} ${path}: not allowed; allowed ${allowed}`);
  }
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
