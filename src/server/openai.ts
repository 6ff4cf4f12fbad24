// OpenAI-compatible HTTP routes on the service port, for tools that speak OpenAI's audio API:
// POST /v1/audio/speech and GET /v1/models. A request is only translated here: its JSON
// becomes the text and SynthesisConfig an RPC carries, and from there it takes the RPCs'
// one way: validateRequest (same limits, same messages) → Synthesizer (cache, admission,
// engine, audio). API keys and rate limits are access.ts's, shared with the RPCs; errors
// are toConnectError's (errors.ts), turned into an HTTP status and OpenAI's error JSON in
// httpStatus() and errorReply() below.
//
// Decisions where OpenAI's API and this service differ:
// - Models: "tts-1", "tts-1-hd" and "gpt-4o-mini-tts(-2025-12-15)" are aliases that all run
//   on this service's voices (tools hard-code them); "piper:<voice id>" names each installed
//   voice, as modelUsed does in the RPCs' responses.
// - Voices: an installed Piper voice id is used as is. OpenAI's built-in voice names (alloy,
//   ash, ...) speak with the voice of a "piper:<id>" model, or else with the default voice
//   (PIPER_MODEL_NAME), so tools that send "alloy" work unchanged. `voice` wins over the
//   model's voice when it is a Piper id.
// - Formats: mp3, opus (Ogg Opus), flac and wav at the voice's own rate; pcm is raw 16-bit
//   little-endian mono at 24 kHz, as OpenAI's is. aac has no encoder here: 400.
// - speed keeps the RPCs' range (0.5 to 2.0), narrower than OpenAI's 0.25 to 4.0.
// - `instructions` cannot be followed by a Piper voice and is ignored; stream_format "sse"
//   is refused. The whole file comes back in one response.
// - Error messages are the RPCs' with the field renamed to the one this API's caller sent
//   ("text:" → "input:", "config.speed:" → "speed:"); `code` is the gRPC status name, so
//   the taxonomy stays errors.ts's.

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import type { Logger } from "pino";
import { AudioEncoding, SynthesisConfigSchema, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { InvalidArgumentError, TtsError } from "../engine/errors.js";
import { validateRequest, type RequestLimits } from "../synthesis/request.js";
import type { Synthesizer } from "../synthesis/synthesizer.js";
import type { VoiceCatalog } from "../voices/index.js";
import type { Access } from "./access.js";
import { RETRY_AFTER_HEADER, toConnectError } from "./errors.js";
import { ServingStatus, type HealthReporter } from "./health.js";
import { codeName, isServerFault, REQUEST_ID_HEADER, requestIdFrom, untilAborted } from "./interceptors.js";
import type { HttpRoute } from "./routes.js";

type Request = Parameters<HttpRoute>[0];

export const SPEECH_PATH = "/v1/audio/speech";
export const MODELS_PATH = "/v1/models";

/** What the routes need from the synthesis stack (given by app.ts). */
export interface OpenAiDeps {
  readonly synthesizer: Synthesizer;
  readonly catalog: VoiceCatalog;
  readonly limits: RequestLimits;
}

/** What they need from the server (given by server.ts). */
export interface OpenAiContext extends OpenAiDeps {
  readonly logger: Logger;
  readonly health: HealthReporter;
  readonly access: Access;
  /** MAX_REQUEST_BYTES: the largest body read. */
  readonly maxRequestBytes: number;
  /** Aborted when the shutdown grace period is over. */
  readonly shutdownSignal: AbortSignal;
}

interface Format {
  readonly encoding: AudioEncoding;
  /** 0 keeps the voice's rate. */
  readonly sampleRate: number;
  readonly contentType: string;
}

const FORMATS: Readonly<Record<string, Format>> = {
  mp3: { encoding: AudioEncoding.MP3, sampleRate: 0, contentType: "audio/mpeg" },
  opus: { encoding: AudioEncoding.OGG_OPUS, sampleRate: 0, contentType: "audio/ogg; codecs=opus" },
  flac: { encoding: AudioEncoding.FLAC, sampleRate: 0, contentType: "audio/flac" },
  wav: { encoding: AudioEncoding.WAV, sampleRate: 0, contentType: "audio/wav" },
  // OpenAI's pcm is raw 24 kHz 16-bit LE mono; clients play it at 24 kHz without asking.
  pcm: { encoding: AudioEncoding.PCM, sampleRate: 24000, contentType: "audio/pcm;rate=24000;channels=1;format=s16le" },
};
const DEFAULT_FORMAT = "mp3";

const MODEL_ALIASES = ["tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15"] as const;
const PIPER_MODEL = "piper:";

// OpenAI's built-in voices (the 6.x client's list); none is a Piper voice id.
const OPENAI_VOICES = new Set([
  "alloy",
  "ash",
  "ballad",
  "cedar",
  "coral",
  "echo",
  "fable",
  "marin",
  "nova",
  "onyx",
  "sage",
  "shimmer",
  "verse",
]);

// The fields the RPCs' messages name, as this API calls them.
const FIELD_NAMES: Readonly<Record<string, string>> = {
  text: "input",
  "config.voice": "voice",
  "config.speed": "speed",
  "config.encoding": "response_format",
  "config.sample_rate": "response_format",
};
const OPENAI_FIELDS = new Set(["model", "input", "voice", "response_format", "speed", "stream_format"]);

/** A failure of the HTTP exchange itself (wrong method, body too large), before any request exists. */
class HttpExchangeError extends ConnectError {
  constructor(
    message: string,
    code: Code,
    readonly httpStatus: number,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message, code);
  }
}

// Not `instanceof`: ConnectError's Symbol.hasInstance counts every ConnectError as one of its subclasses.
function isExchangeError(error: ConnectError): error is HttpExchangeError {
  return typeof (error as Partial<HttpExchangeError>).httpStatus === "number";
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

/** The routes, path → handler, for the server's non-RPC fallback. */
export function openAiRoutes(context: OpenAiContext): Record<string, HttpRoute> {
  const { synthesizer, catalog, limits } = context;
  // OpenAI's `created` is when a model was published; here every model exists since start.
  const created = Math.floor(Date.now() / 1000);

  const modelIds = (): string[] => [...MODEL_ALIASES, ...catalog.list().map((voice) => `${PIPER_MODEL}${voice.id}`)];

  /** The voice a model speaks with: "" for the aliases (the default voice), the id for piper:<id>. */
  const voiceOfModel = async (model: unknown): Promise<string> => {
    if (typeof model !== "string" || model === "") {
      throw new InvalidArgumentError(
        "model",
        `model: ${notA(model, "model name")}; allowed ${MODEL_ALIASES.join(", ")} or piper:<voice id> (GET ${MODELS_PATH})`,
      );
    }
    if ((MODEL_ALIASES as readonly string[]).includes(model)) return "";
    const voice = model.startsWith(PIPER_MODEL) ? model.slice(PIPER_MODEL.length) : undefined;
    const installed = () => voice !== undefined && catalog.list().some((v) => v.id === voice);
    if (voice !== undefined && !installed()) await catalog.scan();
    if (voice === undefined || !installed())
      throw new TtsError("NOT_FOUND", `model: no model named ${JSON.stringify(model)}; models: ${modelIds().join(", ")}`);
    return voice;
  };

  const speech = async (req: Request, signal: AbortSignal): Promise<Reply> => {
    const body = parseJson(await readBody(req, context.maxRequestBytes));
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new InvalidArgumentError(
        "body",
        `request body: ${shown(body)} is not a JSON object; send {"model": ..., "input": ..., "voice": ...}`,
      );
    }
    const fields = body as Record<string, unknown>;
    const modelVoice = await voiceOfModel(fields.model);
    const input = fields.input;
    if (typeof input !== "string")
      throw new InvalidArgumentError("input", `input: ${notA(input, "string")}; send the text to speak as a string`);
    const voice = voiceOf(fields.voice, modelVoice);
    const formatName = fields.response_format ?? DEFAULT_FORMAT;
    const format = typeof formatName === "string" && Object.hasOwn(FORMATS, formatName) ? FORMATS[formatName]! : undefined;
    if (format === undefined) {
      throw new InvalidArgumentError(
        "response_format",
        `response_format: ${shown(formatName)} is not supported by this service; allowed ${Object.keys(FORMATS).join(", ")}`,
      );
    }
    const speed = fields.speed ?? undefined;
    if (speed !== undefined && typeof speed !== "number") throw new InvalidArgumentError("speed", `speed: ${notA(speed, "number")}`);
    const streamFormat = fields.stream_format ?? "audio";
    if (streamFormat !== "audio")
      throw new InvalidArgumentError(
        "stream_format",
        `stream_format: ${shown(streamFormat)} is not supported by this service; allowed audio`,
      );

    const config = create(SynthesisConfigSchema, { voice, encoding: format.encoding, sampleRate: format.sampleRate, speed });
    const result = await synthesizer.synthesize(validateRequest(input, config, limits), signal);
    const { audio } = result;
    return {
      status: 200,
      headers: {
        "content-type": format.contentType,
        "content-length": String(audio.bytes.length),
        "x-model-used": audio.modelUsed,
        "x-audio-duration-seconds": audio.durationSeconds.toFixed(3),
      },
      body: audio.bytes,
    };
  };

  const models = async (): Promise<Reply> => {
    await catalog.scan();
    const data = modelIds().map((id) => ({
      id,
      object: "model",
      created,
      owned_by: id.startsWith(PIPER_MODEL) ? "piper" : "aetheros-tts",
    }));
    return json(200, { object: "list", data });
  };

  return {
    [SPEECH_PATH]: route(context, "POST", speech),
    [MODELS_PATH]: route(context, "GET", models),
  };
}

/** `voice` as a Piper voice id ("" for the default voice). */
function voiceOf(value: unknown, modelVoice: string): string {
  // OpenAI also takes a custom voice as {"id": ...}.
  const voice =
    typeof value === "object" && value !== null && typeof (value as { id?: unknown }).id === "string"
      ? (value as { id: string }).id
      : value;
  if (typeof voice !== "string" || voice === "") {
    throw new InvalidArgumentError(
      "voice",
      `voice: ${notA(value, "voice")}; allowed an installed voice id (GET ${MODELS_PATH} lists them as piper:<id>) or ${[...OPENAI_VOICES].join(", ")}`,
    );
  }
  return OPENAI_VOICES.has(voice.toLowerCase()) ? modelVoice : voice;
}

/**
 * One call: the method, serving and access checks, the handler, then the response and one
 * log line (method, path, status, code, duration_ms, request_id), as logCalls writes for RPCs.
 */
function route(context: OpenAiContext, method: "GET" | "POST", handle: (req: Request, signal: AbortSignal) => Promise<Reply>): HttpRoute {
  const { logger, health, access } = context;
  return (req, res) => {
    const started = performance.now();
    const path = (req.url ?? "").split("?")[0] ?? "";
    const offered = req.headers[REQUEST_ID_HEADER];
    const requestId = requestIdFrom(typeof offered === "string" ? offered : undefined);
    const clientGone = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) clientGone.abort(new ConnectError("call ended by the client", Code.Canceled));
    });
    const signal = AbortSignal.any([clientGone.signal, context.shutdownSignal]);

    const run = async (): Promise<Reply> => {
      if (req.method !== method)
        throw new HttpExchangeError(`${req.method} ${path}: not allowed; allowed ${method}`, Code.Unimplemented, 405, { allow: method });
      // Refused like RPCs while draining (refuseWhenDraining), and also until the voice is ready.
      if (health.status(TtsService.typeName) !== ServingStatus.SERVING)
        throw new TtsError("UNAVAILABLE", "not serving: the server is starting up or shutting down; retry shortly");
      access.check({
        service: "openai",
        method: `${method} ${path}`,
        authorization: req.headers.authorization,
        peer: req.socket?.remoteAddress ?? "unknown",
      });
      return handle(req, signal);
    };

    void untilAborted(run(), signal)
      .then(
        (reply) => ({ reply, error: undefined }),
        (err: unknown) => {
          const error = toConnectError(err);
          return { reply: errorReply(error), error };
        },
      )
      .then(({ reply, error }) => {
        if (!res.destroyed && !res.headersSent) {
          const closing =
            error !== undefined && isExchangeError(error) && error.httpStatus === 413 && req.httpVersionMajor === 1
              ? { connection: "close" }
              : {};
          res.writeHead(reply.status, { ...reply.headers, ...closing, [REQUEST_ID_HEADER]: requestId });
          res.end(reply.body);
        }
        const line = {
          method: req.method,
          path,
          status: reply.status,
          code: error === undefined ? "ok" : codeName(error.code),
          duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
          request_id: requestId,
        };
        if (error === undefined) logger.info(line, "http");
        else if (isServerFault(error.code) && !isExchangeError(error)) logger.error({ ...line, err: error.cause ?? error }, "http");
        else logger.info({ ...line, error: openAiMessage(error).message }, "http");
      })
      .catch((err: unknown) => logger.error({ method: req.method, path, request_id: requestId, err }, "http response failed"));
  };
}

/** The HTTP status for a call's error: Connect's own mapping of its code. */
function httpStatus(error: ConnectError): number {
  return isExchangeError(error) ? error.httpStatus : codeToHttpStatus(error.code);
}

/** OpenAI's error JSON: {"error": {"message", "type", "param", "code"}}, and Retry-After for 429. */
function errorReply(error: ConnectError): Reply {
  const status = httpStatus(error);
  const { message, param } = openAiMessage(error);
  const reply = json(status, { error: { message, type: errorType(status), param, code: codeName(error.code) } });
  if (isExchangeError(error)) Object.assign(reply.headers, error.headers);
  const retryAfterMs = error.metadata.get(RETRY_AFTER_HEADER);
  if (retryAfterMs !== null) {
    reply.headers[RETRY_AFTER_HEADER] = retryAfterMs; // the openai clients read this one first
    reply.headers["retry-after"] = String(Math.max(1, Math.ceil(Number(retryAfterMs) / 1000)));
  }
  return reply;
}

/** The error's message with the field it names ("text: ...") as this API calls it ("input: ..."). */
function openAiMessage(error: ConnectError): { message: string; param: string | null } {
  const field = /^([a-z_.]+): /.exec(error.rawMessage)?.[1];
  const param = field === undefined ? undefined : (FIELD_NAMES[field] ?? (OPENAI_FIELDS.has(field) ? field : undefined));
  if (param === undefined) return { message: error.rawMessage, param: null };
  return { message: `${param}: ${error.rawMessage.slice(field!.length + 2)}`, param };
}

/** OpenAI's error types, by status. */
function errorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  return status >= 500 ? "server_error" : "invalid_request_error";
}

function json(status: number, value: unknown): Reply {
  const body = JSON.stringify(value);
  return { status, headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }, body };
}

/** The request body, refused with 413 past `limit` bytes. */
function readBody(req: Request, limit: number): Promise<Buffer> {
  const tooLarge = () =>
    new HttpExchangeError(
      `request body: more than ${limit} bytes; allowed at most ${limit} (MAX_REQUEST_BYTES)`,
      Code.ResourceExhausted,
      413,
    );
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"]) > limit) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // The rest is read and dropped, so that the 413 can still be sent.
      req.off("data", onData);
      req.resume();
      reject(tooLarge());
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new InvalidArgumentError(
      "body",
      `request body: not valid JSON (${(error as Error).message}); send {"model": "tts-1", "input": "Hello.", "voice": "alloy"}`,
    );
  }
}

/** "missing", or `<value> is not a <what>`. */
function notA(value: unknown, what: string): string {
  return value === undefined ? "missing" : `${shown(value)} is not a ${what}`;
}

/** A value as a message shows it: JSON, at most 40 characters. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
