// OpenAI-compatible HTTP routes on the service port, for tools that speak OpenAI's audio API:
// POST /v1/audio/speech and GET /v1/models. A request is only translated here: its JSON
// becomes the text and SynthesisConfig an RPC carries, and from there it takes the RPCs'
// one way: validateRequest (same limits, same messages) → Synthesizer (cache, admission,
// engine, audio). Logging, drain, API keys, rate limits, aborts and the mapping of errors
// to a status are the pipeline's (pipeline.ts), shared with the RPCs; replyError() below
// only writes the status as HTTP and OpenAI's error JSON.
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
// - `instructions` cannot be followed by a Piper voice and is ignored.
// - OpenAI takes no SSML; an `input` that starts with "<speak" (after spaces or an XML
//   declaration) is spoken as an SSML document, as the RPCs' `ssml` field is.
// - The audio streams as OpenAI's does, from SynthesizeStream's synthesis (Synthesizer.stream):
//   stream_format "audio" (the default) sends the file's bytes chunked as each sentence is
//   encoded, "sse" sends them base64 in speech.audio.delta events and ends with
//   speech.audio.done, for every model (OpenAI refuses "sse" for tts-1). Its usage counts
//   no tokens: zeros, in OpenAI's shape, for clients that read it. The status and headers go
//   out once the synthesis has started (voice resolved, slot taken, text phonemized), so a
//   request that cannot be served still gets its error status. The audio's length is known
//   only at the end: it comes as the trailer x-audio-duration-seconds, not a header.
// - A failure once the headers are out cannot change the 200: the response is cut off (the
//   connection reset, an HTTP/2 stream cancelled) without the end of its chunked body or its
//   speech.audio.done event, so no client takes a partial file for a whole one. The call's
//   log line has the status of the error.
// - Error messages are the RPCs' with the field renamed to the one this API's caller sent
//   ("text:" → "input:", "config.speed:" → "speed:"); `code` is the gRPC status name, so
//   the taxonomy stays the RPCs'.
// - The body must be application/json: browsers send text/plain, form and multipart bodies
//   cross-origin without asking first, and this route must not speak for any web page.

import { create } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { AudioEncoding, SynthesisConfigSchema } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { contentTypeOf, type OutputEncoding } from "../audio/index.js";
import {
  InvalidArgumentError,
  MethodNotAllowedError,
  NotFoundError,
  RequestTooLargeError,
  UnavailableError,
  UnsupportedMediaTypeError,
} from "../errors/index.js";
import { type RequestLimits, type StreamEvent, type Synthesizer, validateRequest } from "../synthesis/index.js";
import type { VoiceCatalog } from "../voices/index.js";
import { type CallPipeline, codeName, pipelineRoute } from "./pipeline.js";
import type { HttpRoute } from "./routes.js";
import { fieldOf, RETRY_AFTER_HEADER } from "./status.js";

type Request = Parameters<HttpRoute>[0];
type Response = Parameters<HttpRoute>[1];

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
  readonly pipeline: CallPipeline;
  /** Whether TtsService is SERVING: until then these routes answer 503, which OpenAI's clients retry. */
  readonly serving: () => boolean;
  /** MAX_REQUEST_BYTES: the largest body read. */
  readonly maxRequestBytes: number;
  /** Aborted when the shutdown grace period is over. */
  readonly shutdownSignal: AbortSignal;
}

interface Format {
  readonly encoding: OutputEncoding;
  /** 0 keeps the voice's rate. */
  readonly sampleRate: number;
}

/** An input that is an SSML document: "<speak", after spaces or an XML declaration. */
const SSML_DOCUMENT = /^\s*(?:<\?xml[^>]*\?>\s*)?<speak[\s>/]/;

// OpenAI's response_format names; the content types are the encodings' own (audio/encodings.ts).
const FORMATS: Readonly<Record<string, Format>> = {
  mp3: { encoding: AudioEncoding.MP3, sampleRate: 0 },
  opus: { encoding: AudioEncoding.OGG_OPUS, sampleRate: 0 },
  flac: { encoding: AudioEncoding.FLAC, sampleRate: 0 },
  wav: { encoding: AudioEncoding.WAV, sampleRate: 0 },
  // OpenAI's pcm is raw 24 kHz 16-bit LE mono; clients play it at 24 kHz without asking.
  pcm: { encoding: AudioEncoding.PCM, sampleRate: 24000 },
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
  ssml: "input",
  "config.voice": "voice",
  "config.speed": "speed",
  "config.encoding": "response_format",
  "config.sample_rate": "response_format",
};
const OPENAI_FIELDS = new Set(["model", "input", "voice", "response_format", "speed", "stream_format"]);

const STREAM_FORMATS = ["audio", "sse"] as const;
type StreamFormat = (typeof STREAM_FORMATS)[number];

/** The audio's length, sent after the body. */
const DURATION_TRAILER = "x-audio-duration-seconds";

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
        `${notA(model, "model name")}; allowed ${MODEL_ALIASES.join(", ")} or piper:<voice id> (GET ${MODELS_PATH})`,
      );
    }
    if ((MODEL_ALIASES as readonly string[]).includes(model)) return "";
    const voice = model.startsWith(PIPER_MODEL) ? model.slice(PIPER_MODEL.length) : undefined;
    const installed = () => voice !== undefined && catalog.list().some((v) => v.id === voice);
    if (voice !== undefined && !installed()) await catalog.scan();
    if (voice === undefined || !installed())
      throw new NotFoundError("model", `no model named ${JSON.stringify(model)}; models: ${modelIds().join(", ")}`);
    return voice;
  };

  const speech = async (req: Request, res: Response, { signal, client }: { signal: AbortSignal; client: string }): Promise<void> => {
    const contentType = req.headers["content-type"];
    if (!/^application\/json\s*(;|$)/i.test(contentType ?? "")) throw new UnsupportedMediaTypeError(contentType, "application/json");
    const body = parseJson(await readBody(req, context.maxRequestBytes));
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new InvalidArgumentError("body", `${shown(body)} is not a JSON object; send {"model": ..., "input": ..., "voice": ...}`);
    }
    const fields = body as Record<string, unknown>;
    const modelVoice = await voiceOfModel(fields.model);
    const input = fields.input;
    if (typeof input !== "string") throw new InvalidArgumentError("input", `${notA(input, "string")}; send the text to speak as a string`);
    const voice = voiceOf(fields.voice, modelVoice);
    const formatName = fields.response_format ?? DEFAULT_FORMAT;
    const format = typeof formatName === "string" && Object.hasOwn(FORMATS, formatName) ? FORMATS[formatName]! : undefined;
    if (format === undefined) {
      throw new InvalidArgumentError(
        "response_format",
        `${shown(formatName)} is not supported by this service; allowed ${Object.keys(FORMATS).join(", ")}`,
      );
    }
    const speed = fields.speed ?? undefined;
    if (speed !== undefined && typeof speed !== "number") throw new InvalidArgumentError("speed", `${notA(speed, "number")}`);
    const streamFormat = fields.stream_format ?? "audio";
    if (!(STREAM_FORMATS as readonly unknown[]).includes(streamFormat)) {
      throw new InvalidArgumentError(
        "stream_format",
        `${shown(streamFormat)} is not supported by this service; allowed ${STREAM_FORMATS.join(", ")}`,
      );
    }

    const config = create(SynthesisConfigSchema, { voice, encoding: format.encoding, sampleRate: format.sampleRate, speed });
    // OpenAI's input is text; a document that starts with <speak> is taken as SSML.
    const request = SSML_DOCUMENT.test(input) ? validateRequest("", config, limits, input) : validateRequest(input, config, limits);
    await sendStream(res, synthesizer.stream(request, signal, client), streamFormat as StreamFormat, signal);
  };

  const models = async (_req: Request, res: Response): Promise<void> => {
    await catalog.scan();
    const data = modelIds().map((id) => ({
      id,
      object: "model",
      created,
      owned_by: id.startsWith(PIPER_MODEL) ? "piper" : "aetheros-tts",
    }));
    send(res, json(200, { object: "list", data }));
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
      `${notA(value, "voice")}; allowed an installed voice id (GET ${MODELS_PATH} lists them as piper:<id>) or ${[...OPENAI_VOICES].join(", ")}`,
    );
  }
  return OPENAI_VOICES.has(voice.toLowerCase()) ? modelVoice : voice;
}

/** A route of `method` through the call pipeline; other verbs get 405. */
function route(
  context: OpenAiContext,
  method: "GET" | "POST",
  handle: (req: Request, res: Response, call: { signal: AbortSignal; client: string }) => Promise<void>,
): HttpRoute {
  return pipelineRoute(
    context.pipeline,
    { service: "openai", shutdownSignal: context.shutdownSignal, replyError },
    async (req, res, call) => {
      const path = (req.url ?? "").split("?")[0] ?? "";
      if (req.method !== method) throw new MethodNotAllowedError(req.method ?? "", path, method);
      if (!context.serving()) throw new UnavailableError("not serving: the server is starting up or shutting down; retry shortly");
      await handle(req, res, call);
    },
  );
}

/**
 * Writes the stream's audio as it comes: the headers on its start event (nothing is sent
 * before, so an error until then gets its status), each chunk as written, the end on its
 * summary. Throws when the call ends first; for-await then closes the stream, which stops
 * its synthesis.
 */
async function sendStream(
  res: Response,
  events: AsyncIterable<StreamEvent>,
  streamFormat: StreamFormat,
  signal: AbortSignal,
): Promise<void> {
  const sse = streamFormat === "sse";
  for await (const event of events) {
    signal.throwIfAborted();
    if (event.type === "start") {
      const headers: Record<string, string> = sse
        ? { "content-type": "text/event-stream", "cache-control": "no-cache" }
        : { "content-type": contentTypeOf(event.encoding, event.sampleRate), trailer: DURATION_TRAILER };
      res.writeHead(200, { ...headers, "x-model-used": event.modelUsed });
      // HTTP/1.1 holds them until the first write; HTTP/2's writeHead sends them at once.
      if ("flushHeaders" in res) res.flushHeaders();
    } else if (event.type === "chunk") {
      await write(
        res,
        sse ? serverSentEvent({ type: "speech.audio.delta", audio: Buffer.from(event.bytes).toString("base64") }) : event.bytes,
        signal,
      );
    } else if (event.type === "timestamps") {
      // Never asked for: OpenAI's speech API has no word timings.
    } else if (sse) {
      res.end(serverSentEvent({ type: "speech.audio.done", usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 } }));
    } else {
      res.addTrailers({ [DURATION_TRAILER]: event.durationSeconds.toFixed(3) });
      res.end();
    }
  }
}

/** Writes `data`; when the response's buffer is full, waits until it drains or the call ends. */
async function write(res: Response, data: Uint8Array | string, signal: AbortSignal): Promise<void> {
  if (res.write(data)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    res.on("drain", done);
    signal.addEventListener("abort", done);
  });
  signal.throwIfAborted();
}

/** One event of a text/event-stream, as OpenAI sends them: a data line of JSON, its type inside. */
function serverSentEvent(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

function send(res: Response, reply: Reply): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(reply.status, reply.headers);
  res.end(reply.body);
}

/**
 * OpenAI's error JSON: {"error": {"message", "type", "param", "code"}}, with the HTTP status
 * for the error's class. Once a stream's 200 is out, the response is cut off instead.
 */
function replyError(res: Response, error: ConnectError, req: Request): number {
  if (res.headersSent && !res.writableEnded) res.destroy();
  const cause = error.cause;
  const status =
    cause instanceof RequestTooLargeError
      ? 413
      : cause instanceof UnsupportedMediaTypeError
        ? 415
        : cause instanceof MethodNotAllowedError
          ? 405
          : codeToHttpStatus(error.code);
  const { message, param } = openAiMessage(error);
  const reply = json(status, { error: { message, type: errorType(status), param, code: codeName(error.code) } });
  if (cause instanceof MethodNotAllowedError) reply.headers.allow = cause.allowed;
  // The rest of a body too large is not read: an HTTP/1.1 connection cannot be reused.
  if (cause instanceof RequestTooLargeError && req.httpVersionMajor === 1) reply.headers.connection = "close";
  const retryAfterMs = error.metadata.get(RETRY_AFTER_HEADER);
  if (retryAfterMs !== null) {
    reply.headers[RETRY_AFTER_HEADER] = retryAfterMs; // the openai clients read this one first
    reply.headers["retry-after"] = String(Math.max(1, Math.ceil(Number(retryAfterMs) / 1000)));
  }
  send(res, reply);
  return status;
}

/** The error's message with the field it names ("text: ...") as this API calls it ("input: ..."). */
function openAiMessage(error: ConnectError): { message: string; param: string | null } {
  const named = fieldOf(error);
  if (named === undefined) return { message: error.rawMessage, param: null };
  const param = FIELD_NAMES[named.field] ?? named.field;
  return { message: `${param}: ${named.problem}`, param: OPENAI_FIELDS.has(param) ? param : null };
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
  const tooLarge = () => new RequestTooLargeError(limit);
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
      `not valid JSON (${(error as Error).message}); send {"model": "tts-1", "input": "Hello.", "voice": "alloy"}`,
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
