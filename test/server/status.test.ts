// toConnectError: each typed error's class picks its status, its message goes to the client
// as written, field problems carry google.rpc.BadRequest and overload google.rpc.RetryInfo;
// anything else becomes INTERNAL without leaking its message, and nothing is mapped by shape.

import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { BadRequestSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  AbortedError,
  FailedPreconditionError,
  InvalidArgumentError,
  MethodNotAllowedError,
  NothingToSpeakError,
  NotFoundError,
  OverloadedError,
  PermissionDeniedError,
  RequestTooLargeError,
  UnauthenticatedError,
  UnavailableError,
  UnsupportedMediaTypeError,
  VoiceLoadError,
  VoiceNotFoundError,
} from "../../src/errors/index.js";
import { RETRY_AFTER_HEADER, toConnectError } from "../../src/server/status.js";

describe("toConnectError", () => {
  it.each([
    [new InvalidArgumentError("config.speed", "3 is out of range; allowed 0.5 to 2.0"), Code.InvalidArgument],
    [new NothingToSpeakError("..."), Code.InvalidArgument],
    [new UnsupportedMediaTypeError("text/plain", "application/json"), Code.InvalidArgument],
    [new NotFoundError("config.speaker", "no speaker 7"), Code.NotFound],
    [new VoiceNotFoundError("xx", ["en_US-joe-medium"]), Code.NotFound],
    [new VoiceLoadError("/srv/models/a.onnx", "missing"), Code.FailedPrecondition],
    [
      new FailedPreconditionError('config.lexicons: lexicon "brand" is invalid: line 3: <lexeme> has no <grapheme>'),
      Code.FailedPrecondition,
    ],
    [new OverloadedError("busy", 250), Code.ResourceExhausted],
    [new RequestTooLargeError(1024), Code.ResourceExhausted],
    [new UnauthenticatedError("invalid API key"), Code.Unauthenticated],
    [new PermissionDeniedError("needs an admin key"), Code.PermissionDenied],
    [new UnavailableError("shutting down"), Code.Unavailable],
    [new MethodNotAllowedError("PUT", "/v1/models", "GET"), Code.Unimplemented],
    [new AbortedError("deadline"), Code.DeadlineExceeded],
    [new AbortedError("cancelled"), Code.Canceled],
  ])("answers %s with its class's status and its own message", (cause, code) => {
    const error = toConnectError(cause);
    expect(error.code).toBe(code);
    expect(error.rawMessage).toBe(cause.message);
    expect(error.cause).toBe(cause);
  });

  it("names the field in google.rpc.BadRequest", () => {
    const error = toConnectError(new InvalidArgumentError("config.speed", "3 is out of range; allowed 0.5 to 2.0"));
    expect(error.rawMessage).toBe("config.speed: 3 is out of range; allowed 0.5 to 2.0");
    const [details] = error.findDetails(BadRequestSchema);
    expect(details?.fieldViolations.map((v) => [v.field, v.description])).toEqual([
      ["config.speed", "3 is out of range; allowed 0.5 to 2.0"],
    ]);
  });

  it("gives overload a google.rpc.RetryInfo and the retry-after-ms header, rounded up", () => {
    const error = toConnectError(new OverloadedError("busy", 1249.2));
    expect(error.metadata.get(RETRY_AFTER_HEADER)).toBe("1250");
    const [info] = error.findDetails(RetryInfoSchema);
    expect(info?.retryDelay?.seconds).toBe(1n);
    expect(info?.retryDelay?.nanos).toBe(250_000_000);
  });

  it("sends a voice file's name and the kind of problem, not its path nor the library's text", () => {
    const cause = new VoiceLoadError(
      "/srv/models/en_US-joe-medium.onnx",
      "onnxruntime cannot load the model (missing, truncated or corrupt)",
      {
        cause: new Error("/onnxruntime_src/onnxruntime/core/graph/model.cc:187 Protobuf parsing failed"),
      },
    );
    const error = toConnectError(cause);
    expect(error.rawMessage).toBe("voice file en_US-joe-medium.onnx: onnxruntime cannot load the model (missing, truncated or corrupt)");
    expect(error.rawMessage).not.toMatch(/\/srv|onnxruntime_src|model\.cc/);
  });

  it("does not map an error by its shape: a plain error with a status-like code is INTERNAL", () => {
    const lookalike = Object.assign(new Error("voice not installed"), { code: "NOT_FOUND", field: "config.voice" });
    expect(toConnectError(lookalike).code).toBe(Code.Internal);
  });

  it("hides other errors behind INTERNAL, keeping them as the cause", () => {
    const cause = Object.assign(new Error("ENOENT: /secret/path"), { code: "ENOENT" });
    const error = toConnectError(cause);
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toBe("internal error");
    expect(error.cause).toBe(cause);
  });

  it("treats a thrown non-error as INTERNAL", () => {
    expect(toConnectError("boom").code).toBe(Code.Internal);
  });

  it("keeps a ConnectError as it is", () => {
    const original = new ConnectError("slow down", Code.ResourceExhausted);
    expect(toConnectError(original)).toBe(original);
  });

  it("reports an aborted operation as CANCELED", () => {
    expect(toConnectError(new DOMException("aborted", "AbortError")).code).toBe(Code.Canceled);
  });
});
