// The one place where errors become the status a client sees. A typed error's class picks
// its code (STATUS_OF, by instanceof); field problems carry google.rpc.BadRequest and
// overload carries google.rpc.RetryInfo as error details, plus the retry-after-ms header
// or trailer older clients read. Anything else is a bug and reaches the client as INTERNAL
// with no details; the log line keeps the error.

import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequest_FieldViolationSchema, BadRequestSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  AbortedError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  OverloadedError,
  PermissionDeniedError,
  type ServiceError,
  StreamTimeoutError,
  UnauthenticatedError,
  UnavailableError,
  UnimplementedError,
  VoiceLoadError,
} from "../errors/index.js";

/**
 * Response metadata telling a client refused with RESOURCE_EXHAUSTED how many
 * milliseconds to wait before retrying (a decimal integer).
 */
export const RETRY_AFTER_HEADER = "retry-after-ms";

type ServiceErrorClass = abstract new (...args: never[]) => ServiceError;

/** Every ServiceError class and the code it is answered with; the first match wins. */
const STATUS_OF: readonly (readonly [ServiceErrorClass, Code])[] = [
  [InvalidArgumentError, Code.InvalidArgument],
  [NotFoundError, Code.NotFound],
  [VoiceLoadError, Code.FailedPrecondition],
  [FailedPreconditionError, Code.FailedPrecondition],
  [OverloadedError, Code.ResourceExhausted],
  [UnauthenticatedError, Code.Unauthenticated],
  [PermissionDeniedError, Code.PermissionDenied],
  [UnavailableError, Code.Unavailable],
  [UnimplementedError, Code.Unimplemented],
  [StreamTimeoutError, Code.DeadlineExceeded],
];

export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof AbortedError) {
    return new ConnectError(err.message, err.reason === "deadline" ? Code.DeadlineExceeded : Code.Canceled, undefined, undefined, err);
  }
  // A cancelled call: ConnectError.from turns an AbortError into CANCELED.
  if (err instanceof Error && err.name === "AbortError") return ConnectError.from(err);
  const code = STATUS_OF.find(([type]) => err instanceof type)?.[1];
  if (code === undefined) return new ConnectError("internal error", Code.Internal, undefined, undefined, err);
  const error = new ConnectError((err as ServiceError).message, code, undefined, details(err as ServiceError), err);
  if (err instanceof OverloadedError && err.retryAfterMs !== undefined) {
    error.metadata.set(RETRY_AFTER_HEADER, String(retryAfterMs(err.retryAfterMs)));
  }
  return error;
}

/** The field a client error names, if it names one. */
export function fieldOf(err: unknown): { field: string; problem: string } | undefined {
  const cause = err instanceof ConnectError ? err.cause : err;
  return cause instanceof InvalidArgumentError || cause instanceof NotFoundError ? cause : undefined;
}

function details(err: ServiceError): ConstructorParameters<typeof ConnectError>[3] {
  if (err instanceof InvalidArgumentError) {
    const violation = create(BadRequest_FieldViolationSchema, { field: err.field, description: err.problem });
    return [{ desc: BadRequestSchema, value: { fieldViolations: [violation] } }];
  }
  if (err instanceof OverloadedError && err.retryAfterMs !== undefined) {
    const ms = retryAfterMs(err.retryAfterMs);
    const retryDelay = create(DurationSchema, { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });
    return [{ desc: RetryInfoSchema, value: { retryDelay } }];
  }
  return [];
}

function retryAfterMs(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}
