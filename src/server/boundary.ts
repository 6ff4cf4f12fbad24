// Calls that end before the pipeline's interceptor runs: a body that is not the method's
// message (a truncated varint, invalid UTF-8, bad base64 in a Connect GET, an unknown enum
// name in JSON), a malformed timeout header, a content type or HTTP method the protocol
// does not take. Connect answers these itself, without interceptors, and answers an
// undecodable protobuf body as INTERNAL. This boundary sits around every method's handler:
// it starts the call (request id, clock) for the pipeline, and when the call never reached
// the interceptor it reads the status Connect answered with, turns INTERNAL into the
// caller's INVALID_ARGUMENT (the request never reached the service, so the failure is the
// request's), and hands the call to the pipeline for its log line and metric sample.

import type { DescMessage, JsonValue } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import {
  createAsyncIterable,
  encodeEnvelope,
  readAllBytes,
  type UniversalHandler,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import {
  codeFromHttpStatus,
  codeToHttpStatus,
  endStreamFlag,
  endStreamToJson,
  errorFromJson,
  errorFromJsonBytes,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { InvalidArgumentError } from "../errors/index.js";
import { CALL, type CallPipeline, REQUEST_ID_HEADER, rpcKind, undecodable } from "./pipeline.js";
import { toConnectError } from "./status.js";

/** Wraps every handler the router holds; call after every service is registered. */
export function guardHandlers(router: ConnectRouter, pipeline: CallPipeline): void {
  router.handlers.forEach((handler, index) => {
    router.handlers[index] = Object.assign(guarded(handler, pipeline), handler);
  });
}

type Protocol = "connect-unary" | "connect-stream" | "grpc" | "grpc-web";

function guarded(handler: UniversalHandler, pipeline: CallPipeline): UniversalHandler {
  const kind = rpcKind(handler.method);
  return (async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
    // connect-node gives every request its context values (server.ts sets the peer's address).
    if (req.contextValues === undefined) return handler(req);
    const call = pipeline.begin(kind, req.header.get(REQUEST_ID_HEADER));
    req.contextValues.set(CALL, call);
    const protocol = protocolOf(req);
    // What Connect reads of a JSON body is kept, so that a refused one can be explained field by field.
    const jsonBody = protocol === "connect-unary" && isJson(req) ? ([] as Uint8Array[]) : undefined;
    const res = await handler(jsonBody === undefined ? req : { ...req, body: kept(req.body as AsyncIterable<Uint8Array>, jsonBody) });
    if (call.taken) return res;
    const { refused, response } = await refusal(protocol, res);
    const error = explained(refused, handler.method.input, jsonBody === undefined ? queryMessage(req) : concat(jsonBody));
    error.metadata.set(REQUEST_ID_HEADER, call.requestId);
    pipeline.finish(call, error);
    return error === refused ? response : answer(protocol, response, error);
  }) as UniversalHandler;
}

function protocolOf(req: UniversalServerRequest): Protocol {
  const contentType = req.header.get("content-type") ?? "";
  if (contentType.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType.startsWith("application/grpc")) return "grpc";
  if (contentType.startsWith("application/connect+")) return "connect-stream";
  return "connect-unary";
}

function isJson(req: UniversalServerRequest): boolean {
  return req.method === "POST" && /^application\/json\b/.test(req.header.get("content-type") ?? "");
}

async function* kept(body: AsyncIterable<Uint8Array>, chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    chunks.push(chunk);
    yield chunk;
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks);
}

/** A Connect GET's message, when it is JSON. */
function queryMessage(req: UniversalServerRequest): Uint8Array | undefined {
  if (req.method !== "GET") return undefined;
  const query = new URL(req.url).searchParams;
  if (query.get("encoding") !== "json" || query.get("base64") === "1") return undefined;
  return new TextEncoder().encode(query.get("message") ?? "");
}

/** The status Connect answered a refused call with, and the response as it stands (its body read once). */
async function refusal(
  protocol: Protocol,
  res: UniversalServerResponse,
): Promise<{ refused: ConnectError; response: UniversalServerResponse }> {
  const body = res.body === undefined ? new Uint8Array(0) : await readAllBytes(res.body, Number.MAX_SAFE_INTEGER);
  const response = { ...res, body: createAsyncIterable([body]) };
  switch (protocol) {
    case "grpc":
      return { refused: findTrailerError(res.trailer ?? new Headers()) ?? unknownRefusal(res), response };
    case "grpc-web":
    case "connect-stream": {
      const last = lastEnvelope(body);
      if (last === undefined) return { refused: unknownRefusal(res), response };
      if (protocol === "grpc-web") return { refused: findTrailerError(trailerParse(last)) ?? unknownRefusal(res), response };
      const end = JSON.parse(new TextDecoder().decode(last)) as { error?: JsonValue };
      return {
        refused: end.error === undefined ? unknownRefusal(res) : errorFromJson(end.error, undefined, unknownRefusal(res)),
        response,
      };
    }
    case "connect-unary":
      if (res.status === 415 || res.status === 405 || body.length === 0) return { refused: unknownRefusal(res), response };
      return { refused: errorFromJsonBytes(body, undefined, unknownRefusal(res)), response };
  }
}

/**
 * A refusal that carries no status of its own: a content type the protocol does not take
 * (415) is the request's fault, a verb it does not take (405) asks for what is not there.
 */
function unknownRefusal(res: UniversalServerResponse): ConnectError {
  const code =
    res.status === 415
      ? Code.InvalidArgument
      : res.status === 405
        ? Code.Unimplemented
        : res.status === 200
          ? Code.Unknown
          : codeFromHttpStatus(res.status);
  return new ConnectError(`refused with HTTP ${res.status}`, code);
}

/** The last envelope's data in an enveloped body (gRPC-Web's trailers, Connect's end of stream). */
function lastEnvelope(body: Uint8Array): Uint8Array | undefined {
  let offset = 0;
  let last: Uint8Array | undefined;
  while (offset + 5 <= body.length) {
    const length = new DataView(body.buffer, body.byteOffset + offset + 1, 4).getUint32(0);
    last = body.subarray(offset + 5, offset + 5 + length);
    offset += 5 + length;
  }
  return last;
}

/**
 * The caller's error for a refused call: INTERNAL (Connect's answer to a body that does not
 * decode) becomes INVALID_ARGUMENT, naming the field a JSON body got wrong when it can.
 */
function explained(refused: ConnectError, input: DescMessage, json: Uint8Array | undefined): ConnectError {
  const wrongField = json === undefined || refused.code !== Code.InvalidArgument ? undefined : firstWrongField(input, json);
  if (wrongField !== undefined) return toConnectError(wrongField);
  if (refused.code !== Code.Internal) return refused;
  return toConnectError(undecodable(refused));
}

/** The first field of a JSON message that does not fit its schema: an unknown name, or an enum value it lacks. */
function firstWrongField(schema: DescMessage, bytes: Uint8Array): InvalidArgumentError | undefined {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    return new InvalidArgumentError("request", `not valid JSON (${(error as Error).message})`);
  }
  return wrongFieldIn(schema, json, "");
}

function wrongFieldIn(schema: DescMessage, json: unknown, prefix: string): InvalidArgumentError | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  for (const [key, value] of Object.entries(json)) {
    const field = schema.fields.find((f) => f.jsonName === key || f.name === key);
    const path = `${prefix}${field?.name ?? key}`;
    if (field === undefined) {
      const allowed = schema.fields.map((f) => f.name).join(", ");
      return new InvalidArgumentError(path, `unknown field of ${schema.typeName}; allowed ${allowed}`);
    }
    if (field.fieldKind === "enum" && typeof value === "string" && !field.enum.values.some((v) => v.name === value)) {
      const allowed = field.enum.values
        .filter((v) => v.number !== 0)
        .map((v) => v.name)
        .join(", ");
      return new InvalidArgumentError(path, `${JSON.stringify(value)} is not in enum ${field.enum.name}; allowed ${allowed}`);
    }
    const inner = field.fieldKind === "message" ? wrongFieldIn(field.message, value, `${path}.`) : undefined;
    if (inner !== undefined) return inner;
  }
  // Anything else (a string where a number belongs, say) keeps protobuf-es's own message.
  return undefined;
}

/** The refused call answered again with `error`, in its protocol. */
function answer(protocol: Protocol, response: UniversalServerResponse, error: ConnectError): UniversalServerResponse {
  const header = new Headers(response.header);
  for (const [key, value] of error.metadata) header.set(key, value);
  switch (protocol) {
    case "grpc": {
      const trailer = new Headers();
      setTrailerStatus(trailer, error);
      return { ...response, header, trailer, body: createAsyncIterable([]) };
    }
    case "grpc-web": {
      const trailer = new Headers();
      setTrailerStatus(trailer, error);
      return { ...response, header, body: createAsyncIterable([encodeEnvelope(trailerFlag, trailerSerialize(trailer))]) };
    }
    case "connect-stream": {
      const end = new TextEncoder().encode(JSON.stringify(endStreamToJson(new Headers(), error, undefined)));
      return { ...response, header, body: createAsyncIterable([encodeEnvelope(endStreamFlag, end)]) };
    }
    case "connect-unary": {
      const body = errorToJsonBytes(error, {});
      header.set("content-type", "application/json");
      header.set("content-length", String(body.byteLength));
      return { ...response, status: codeToHttpStatus(error.code), header, body: createAsyncIterable([body]) };
    }
  }
}
