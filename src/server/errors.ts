// The one place where errors thrown by handlers become the status a client
// sees. Engine and validation errors carry a `code` naming their gRPC status;
// anything else is a bug and reaches the client as INTERNAL without details.

import { Code, ConnectError } from "@connectrpc/connect";

const CODES = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  CANCELLED: Code.Canceled,
  UNAVAILABLE: Code.Unavailable,
  RESOURCE_EXHAUSTED: Code.ResourceExhausted,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  UNAUTHENTICATED: Code.Unauthenticated,
  PERMISSION_DENIED: Code.PermissionDenied,
} as const;

/**
 * Response metadata telling a client refused with RESOURCE_EXHAUSTED how many
 * milliseconds to wait before retrying (a decimal integer).
 */
export const RETRY_AFTER_HEADER = "retry-after-ms";

/** The status names a typed error may carry in its `code` property. */
export type StatusName = keyof typeof CODES;

export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof Error) {
    // A cancelled call: ConnectError.from turns an AbortError into CANCELED.
    if (err.name === "AbortError") return ConnectError.from(err);
    const code = "code" in err && typeof err.code === "string" ? statusCode(err.code) : undefined;
    if (code !== undefined) {
      const error = new ConnectError(err.message, code, undefined, undefined, err);
      if ("retryAfterMs" in err && typeof err.retryAfterMs === "number") {
        error.metadata.set(RETRY_AFTER_HEADER, String(Math.max(1, Math.ceil(err.retryAfterMs))));
      }
      return error;
    }
  }
  return new ConnectError("internal error", Code.Internal, undefined, undefined, err);
}

function statusCode(name: string): Code | undefined {
  return Object.hasOwn(CODES, name) ? CODES[name as StatusName] : undefined;
}
