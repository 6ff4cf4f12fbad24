import type { Interceptor } from "@connectrpc/connect";

/** Adds `authorization: Bearer <apiKey>` to every call. */
export function bearer(apiKey: string): Interceptor {
  return (next) => (request) => {
    request.header.set("authorization", `Bearer ${apiKey}`);
    return next(request);
  };
}
