// toConnectError: typed errors keep their status and message; anything else
// becomes INTERNAL without leaking its message.

import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { toConnectError } from "../../src/server/errors.js";

class TypedError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

describe("toConnectError", () => {
  it.each([
    ["INVALID_ARGUMENT", Code.InvalidArgument],
    ["NOT_FOUND", Code.NotFound],
    ["UNAVAILABLE", Code.Unavailable],
    ["RESOURCE_EXHAUSTED", Code.ResourceExhausted],
    ["DEADLINE_EXCEEDED", Code.DeadlineExceeded],
  ])("maps an error with code %s to that status, keeping its message", (name, code) => {
    const cause = new TypedError('voice "xx" is not installed', name);
    const error = toConnectError(cause);
    expect(error.code).toBe(code);
    expect(error.rawMessage).toBe('voice "xx" is not installed');
    expect(error.cause).toBe(cause);
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

  it("does not read status names from the prototype chain", () => {
    expect(toConnectError(new TypedError("x", "toString")).code).toBe(Code.Internal);
  });

  it("keeps a ConnectError as it is", () => {
    const original = new ConnectError("slow down", Code.ResourceExhausted);
    expect(toConnectError(original)).toBe(original);
  });

  it("reports an aborted operation as CANCELED", () => {
    expect(toConnectError(new DOMException("aborted", "AbortError")).code).toBe(Code.Canceled);
  });
});
