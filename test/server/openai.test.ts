// The OpenAI-compatible endpoint against the real server, through the official `openai`
// client and node:http: every response_format decoded by ffmpeg, pcm as raw 24 kHz s16le,
// streaming (chunked audio and SSE, sent while the synthesis runs, stopped when the client
// leaves), speed,
// OpenAI's voice names on the default voice, the models list, OpenAI's error JSON with
// the field named, 503 until ready, and API keys, rate limits and admission shared with
// the RPCs.

import { mkdtemp, rm } from "node:fs/promises";
import { type IncomingMessage, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, createClient } from "@connectrpc/connect";
import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { collectStream, decode, probe, ttsClient, VOICE, VOICE_RATE, waitForLog } from "../synthesis/support.js";
import { callError, startServer, type RunningServer } from "./running-server.js";
import { proseOfLength, transportFor, untilIdle, waitUntil } from "./support.js";

const TEXT = "Hello from the OpenAI compatible endpoint.";

type SpeechParams = Parameters<OpenAI["audio"]["speech"]["create"]>[0];

function openai(running: RunningServer, apiKey = "no-key-needed"): OpenAI {
  // No retries: a 429 or 503 is what the test wants to see.
  return new OpenAI({ baseURL: `${running.baseUrl}/v1`, apiKey, maxRetries: 0 });
}

/** The audio bytes and the response, or throws the client's APIError. */
async function speak(client: OpenAI, params: Partial<SpeechParams>, options?: { signal?: AbortSignal }) {
  const response = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input: TEXT, ...params } as SpeechParams, options);
  return { response, audio: new Uint8Array(await response.arrayBuffer()) };
}

/** The APIError a call fails with; throws when it succeeds. */
async function apiError(call: Promise<unknown>): Promise<APIError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error("the call succeeded");
}

/** OpenAI's error JSON, checked for its shape. */
function expectOpenAiError(
  error: APIError,
  status: number,
  fields: { message?: string | RegExp; param: string | null; code: string; type?: string },
) {
  expect(error.status).toBe(status);
  expect(Object.keys(error.error as object).sort()).toEqual(["code", "message", "param", "type"]);
  const body = error.error as { message: string; type: string; param: string | null; code: string };
  if (typeof fields.message === "string") expect(body.message).toBe(fields.message);
  else if (fields.message) expect(body.message).toMatch(fields.message);
  expect(body.param).toBe(fields.param);
  expect(body.code).toBe(fields.code);
  expect(body.type).toBe(fields.type ?? "invalid_request_error");
}

const mediaType = (response: Response) => response.headers.get("content-type")?.split(";")[0]?.trim();

/** POST /v1/audio/speech over node:http, which shows the transfer encoding and trailers; the body is left unread. */
function postSpeech(running: RunningServer, body: Record<string, unknown>, requestId: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const call = request(
      `${running.baseUrl}/v1/audio/speech`,
      { method: "POST", headers: { "content-type": "application/json", "x-request-id": requestId } },
      resolve,
    );
    call.once("error", reject);
    call.end(JSON.stringify({ model: "tts-1", voice: "alloy", ...body }));
  });
}

/** The rest of a body whose first chunk was read. */
async function rest(first: Uint8Array, chunks: AsyncIterator<Uint8Array>): Promise<Uint8Array> {
  const parts = [first];
  for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) parts.push(next.value);
  return Buffer.concat(parts);
}

/** The events of a text/event-stream body: each one's data line, parsed. */
function serverSentEvents(body: string): Array<Record<string, unknown>> {
  expect(body.endsWith("\n\n")).toBe(true);
  return body
    .slice(0, -2)
    .split("\n\n")
    .map((event) => {
      expect(event).toMatch(/^data: \{.*\}$/);
      return JSON.parse(event.slice("data: ".length)) as Record<string, unknown>;
    });
}

/** About 40 seconds of speech: long enough that its inference runs well after the first sentence is sent. */
const LONG_CHARS = 600;

/** Seconds of audio ffmpeg decodes from the bytes (at `rate`; raw PCM is read at `rawRate`). */
async function decodedSeconds(audio: Uint8Array, rate: number, rawRate?: number): Promise<number> {
  return (await decode(audio, { rawRate })).length / rate;
}

describe("OpenAI-compatible endpoint", () => {
  let running: RunningServer;
  let cacheDir: string;
  let client: OpenAI;
  let beforeReady: APIError;

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), "tts-openai-"));
    // The cache is on so that an RPC can tell whether an HTTP request made the same entry.
    running = await startServer({ CACHE_ENABLED: "true", CACHE_DIR: cacheDir }, { ready: false });
    client = openai(running);
    beforeReady = await apiError(speak(client, {}));
    await running.app.ready();
  });
  afterAll(async () => {
    await running?.app.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it("answers 503 with OpenAI's error JSON until the voice is ready", () => {
    expectOpenAiError(beforeReady, 503, { message: /not serving/, param: null, code: "unavailable", type: "server_error" });
  });

  it.each([
    { format: "mp3", contentType: "audio/mpeg", codec: "mp3", rate: VOICE_RATE },
    { format: "opus", contentType: "audio/ogg", codec: "opus", rate: 48000 }, // Opus decoders output 48 kHz
    { format: "flac", contentType: "audio/flac", codec: "flac", rate: VOICE_RATE },
    { format: "wav", contentType: "audio/wav", codec: "pcm_s16le", rate: VOICE_RATE },
  ] as const)(
    "returns $format that ffmpeg decodes ($codec, $rate Hz, mono) with a plausible duration",
    async ({ format, contentType, codec, rate }) => {
      const { response, audio } = await speak(client, { response_format: format });
      expect(response.status).toBe(200);
      expect(mediaType(response)).toBe(contentType);
      expect(response.headers.get("content-length")).toBeNull();
      expect(await probe(audio)).toEqual({ codec, sampleRate: rate, channels: 1 });
      const seconds = await decodedSeconds(audio, rate);
      // About two and a half seconds of speech.
      expect(seconds).toBeGreaterThan(1);
      expect(seconds).toBeLessThan(6);
    },
  );

  it("answers in mp3 when response_format is left out", async () => {
    const { response, audio } = await speak(client, {});
    expect(mediaType(response)).toBe("audio/mpeg");
    expect((await probe(audio)).codec).toBe("mp3");
  });

  it("returns pcm as raw 16-bit LE mono at 24 kHz", async () => {
    const text = proseOfLength(200);
    const pcm = await speak(client, { input: text, response_format: "pcm" });
    expect(pcm.response.headers.get("content-type")).toBe("audio/pcm;rate=24000;channels=1;format=s16le");
    expect(pcm.audio.length % 2).toBe(0);
    const wav = await speak(client, { input: text, response_format: "wav" });
    // The same text at the voice's rate, as ffmpeg reads the WAV header: the raw bytes
    // hold as many seconds only when read at 24 kHz (at 22,050 Hz they would be 8.8% longer).
    // The voices' duration noise moves the two apart by a percent or two.
    const ratio = pcm.audio.length / 2 / 24000 / (await decodedSeconds(wav.audio, VOICE_RATE));
    expect(ratio).toBeGreaterThan(0.96);
    expect(ratio).toBeLessThan(1.04);
    // Through the RPCs' cache: a PCM request at 24 kHz finds the entry the HTTP call made.
    const rpc = await ttsClient(running).synthesize({ text, config: { encoding: AudioEncoding.PCM, sampleRate: 24000 } });
    expect(rpc.cached).toBe(true);
    expect(Buffer.from(rpc.audio).equals(Buffer.from(pcm.audio))).toBe(true);
  });

  it("speaks an input that is an SSML document as SSML, as the RPCs' ssml field does", async () => {
    const ssml = '<speak>Wait.<break time="1500ms"/>Go.</speak>';
    const http = await speak(client, { input: ssml, response_format: "pcm" });
    const rpc = await ttsClient(running).synthesize({ ssml, config: { encoding: AudioEncoding.PCM, sampleRate: 24000 } });
    // Noise makes two syntheses differ; the break alone is 1.5 s of the audio.
    expect(http.audio.length / 2 / 24000).toBeGreaterThan(1.5 + 0.3);
    expect(Math.abs(http.audio.length - rpc.audio.length) / rpc.audio.length).toBeLessThan(0.2);
    // Errors name the field as this API's caller sent it.
    const bad = await apiError(speak(client, { input: "<speak>Wait" }));
    expectOpenAiError(bad, 400, {
      message: "input: line 1, column 11: <speak> is not closed; expected </speak> before the end",
      param: "input",
      code: "invalid_argument",
    });
    // A document that says nothing gets its 400 before any audio, as such a text does.
    expectOpenAiError(await apiError(speak(client, { input: "<speak>... — —</speak>" })), 400, {
      message: 'input: nothing speakable in "<speak>... — —</speak>" (it produced no phonemes)',
      param: "input",
      code: "invalid_argument",
    });
  });

  it("speaks faster at a higher speed and slower at a lower one", async () => {
    const text = proseOfLength(120);
    const seconds = async (speed: number) =>
      decodedSeconds((await speak(client, { input: text, speed, response_format: "wav" })).audio, VOICE_RATE);
    const normal = await seconds(1);
    expect(await seconds(2)).toBeLessThan(normal * 0.7);
    expect(await seconds(0.5)).toBeGreaterThan(normal * 1.5);
  });

  it("speaks OpenAI's voice names with the default voice, the same speech an RPC gets", async () => {
    for (const voice of ["alloy", "nova", "shimmer"]) {
      const { response } = await speak(client, { voice, response_format: "flac" });
      expect(response.headers.get("x-model-used")).toBe(`piper:${VOICE}`);
    }
    // The cache key holds the resolved voice and every setting: an RPC naming the default
    // voice explicitly gets the entry "alloy" made. Its WAV header has the lengths the
    // streamed one could not know; the samples are the same.
    const text = proseOfLength(60);
    const { audio } = await speak(client, { voice: "alloy", input: text, response_format: "wav" });
    const rpc = await ttsClient(running).synthesize({ text, config: { voice: VOICE, encoding: AudioEncoding.WAV } });
    expect(rpc.cached).toBe(true);
    expect(await decode(audio)).toEqual(await decode(rpc.audio));
  });

  it("takes an installed Piper voice id as voice, and piper:<id> as model", async () => {
    const byVoice = await speak(client, { voice: VOICE, response_format: "wav" });
    expect(byVoice.response.headers.get("x-model-used")).toBe(`piper:${VOICE}`);
    const byModel = await speak(client, { model: `piper:${VOICE}`, voice: "alloy", response_format: "wav" });
    expect(byModel.response.headers.get("x-model-used")).toBe(`piper:${VOICE}`);
    expect((await probe(byModel.audio)).sampleRate).toBe(VOICE_RATE);
  });

  it("lists OpenAI's model names and every installed voice in OpenAI's list shape", async () => {
    const page = await client.models.list();
    const ids = page.data.map((model) => model.id);
    expect(ids).toEqual(expect.arrayContaining(["tts-1", "tts-1-hd", "gpt-4o-mini-tts", `piper:${VOICE}`]));
    const { voices } = await ttsClient(running).listVoices({});
    for (const voice of voices) expect(ids).toContain(`piper:${voice.id}`);
    for (const model of page.data) {
      expect(model.object).toBe("model");
      expect(Number.isInteger(model.created)).toBe(true);
      expect(typeof model.owned_by).toBe("string");
    }
    const raw = (await (await fetch(`${running.baseUrl}/v1/models`)).json()) as { object: string };
    expect(raw.object).toBe("list");
  });

  describe("streaming", () => {
    it("sends the audio chunked while the synthesis runs, and a client that leaves stops it, logged once as cancelled", async () => {
      await untilIdle(running);
      const requestId = "openai-stream-leaves";
      const since = running.logLines.length;
      const response = await postSpeech(running, { input: proseOfLength(LONG_CHARS), response_format: "wav" }, requestId);
      expect(response.statusCode).toBe(200);
      expect(response.headers["transfer-encoding"]).toBe("chunked");
      expect(response.headers["content-length"]).toBeUndefined();
      expect(response.headers["content-type"]).toBe("audio/wav");
      const first = await response[Symbol.asyncIterator]().next();
      expect((first.value as Buffer).subarray(0, 4).toString("latin1")).toBe("RIFF");
      // The first bytes are here and the synthesis still holds its slot: the inference is not over.
      expect(running.app.admission.stats().running).toBe(1);
      response.destroy();
      // Stopped, not finished: the rest of the audio was never produced.
      const stopped = await waitForLog(running, since, (l) => l.msg === "synthesis stopped early");
      expect(stopped.aborted).toBe(true);
      expect(stopped.sentences_done as number).toBeLessThan(stopped.sentences_total as number);
      const line = await waitForLog(running, since, (l) => l.request_id === requestId);
      expect(line).toMatchObject({ msg: "http", code: "canceled", status: 499 });
      await untilIdle(running);
      expect(running.logLines.slice(since).filter((l) => l.request_id === requestId)).toHaveLength(1);
      // The slot is free: the next request is served.
      const next = await speak(client, { input: "Served next.", response_format: "wav" });
      expect(next.response.status).toBe(200);
      expect((await probe(next.audio)).codec).toBe("pcm_s16le");
    });

    it("streams a whole file with the same samples SynthesizeStream gives, its duration in a trailer; a cache hit replays it", async () => {
      await untilIdle(running);
      const text = proseOfLength(LONG_CHARS);
      const response = await postSpeech(running, { input: text, response_format: "wav" }, "openai-stream-whole");
      expect(response.headers["transfer-encoding"]).toBe("chunked");
      expect(response.headers.trailer).toBe("x-audio-duration-seconds");
      const chunks = response[Symbol.asyncIterator]();
      const first = (await chunks.next()).value as Uint8Array;
      expect(running.app.admission.stats().running).toBe(1);
      const streamed = await rest(first, chunks);
      const samples = await decode(streamed);
      expect(samples.length / VOICE_RATE).toBeGreaterThan(30);
      expect(Number(response.trailers["x-audio-duration-seconds"])).toBeCloseTo(samples.length / VOICE_RATE, 2);
      // The stream that ran to its end filled the cache: SynthesizeStream replays the same samples.
      const rpc = await collectStream(ttsClient(running).synthesizeStream({ text, config: { voice: VOICE, encoding: AudioEncoding.WAV } }));
      expect(rpc.summary?.cached).toBe(true);
      expect(await decode(rpc.audio)).toEqual(samples);
      // And so does this route, still chunked, from the cache.
      const hit = await postSpeech(running, { input: text, response_format: "wav" }, "openai-stream-hit");
      expect(hit.headers["transfer-encoding"]).toBe("chunked");
      const hitChunks = hit[Symbol.asyncIterator]();
      const hitAudio = await rest((await hitChunks.next()).value as Uint8Array, hitChunks);
      expect(Buffer.from(hitAudio).equals(Buffer.from(rpc.audio))).toBe(true);
    });

    it("reaches the openai client's response.body while the synthesis runs", async () => {
      await untilIdle(running);
      const response = await client.audio.speech.create({
        model: "tts-1",
        voice: "alloy",
        input: proseOfLength(LONG_CHARS),
        response_format: "mp3",
      });
      expect(response.headers.get("content-length")).toBeNull();
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(first.value!.length).toBeGreaterThan(0);
      expect(running.app.admission.stats().running).toBe(1);
      const parts = [first.value!];
      for (let next = await reader.read(); !next.done; next = await reader.read()) parts.push(next.value);
      const audio = Buffer.concat(parts);
      expect((await probe(audio)).codec).toBe("mp3");
      expect(await decodedSeconds(audio, VOICE_RATE)).toBeGreaterThan(30);
    });

    it('sends stream_format "sse" as OpenAI\'s speech.audio.delta events and a speech.audio.done, the audio the same', async () => {
      await untilIdle(running);
      const text = proseOfLength(LONG_CHARS);
      const response = await fetch(`${running.baseUrl}/v1/audio/speech`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "tts-1", voice: "alloy", input: text, response_format: "pcm", stream_format: "sse" }),
      });
      expect(response.status).toBe(200);
      expect(mediaType(response)).toBe("text/event-stream");
      expect(response.headers.get("content-length")).toBeNull();
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value!)).toMatch(/^data: \{"type":"speech\.audio\.delta","audio":"/);
      expect(running.app.admission.stats().running).toBe(1);
      const parts = [first.value!];
      for (let next = await reader.read(); !next.done; next = await reader.read()) parts.push(next.value);
      const events = serverSentEvents(Buffer.concat(parts).toString("utf8"));
      const done = events.at(-1)!;
      expect(done).toEqual({ type: "speech.audio.done", usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 } });
      const deltas = events.slice(0, -1);
      expect(deltas.length).toBeGreaterThan(1);
      for (const delta of deltas) {
        expect(Object.keys(delta).sort()).toEqual(["audio", "type"]);
        expect(delta.type).toBe("speech.audio.delta");
      }
      const pcm = Buffer.concat(deltas.map((delta) => Buffer.from(delta.audio as string, "base64")));
      expect(pcm.length / 2 / 24000).toBeGreaterThan(30);
      // The entry the stream made: the same bytes for SynthesizeStream (raw PCM has no header).
      const rpc = await collectStream(
        ttsClient(running).synthesizeStream({ text, config: { voice: VOICE, encoding: AudioEncoding.PCM, sampleRate: 24000 } }),
      );
      expect(rpc.summary?.cached).toBe(true);
      expect(Buffer.from(rpc.audio).equals(pcm)).toBe(true);
    });
  });

  describe("errors, in OpenAI's error JSON with the field named", () => {
    it("refuses an empty input with 400", async () => {
      expectOpenAiError(await apiError(speak(client, { input: "   " })), 400, {
        message: "input: must not be empty or only whitespace",
        param: "input",
        code: "invalid_argument",
      });
    });

    it("refuses an input over MAX_TEXT_LENGTH with 400 naming the limit", async () => {
      const error = await apiError(speak(client, { input: "a".repeat(running.config.maxTextLength + 1) }));
      expectOpenAiError(error, 400, {
        message: `input: ${running.config.maxTextLength + 1} characters is too long; allowed 1 to ${running.config.maxTextLength} (MAX_TEXT_LENGTH)`,
        param: "input",
        code: "invalid_argument",
      });
    });

    it("refuses a speed out of range with 400 and the RPCs' message, the field renamed", async () => {
      const rpc = await callError(ttsClient(running).synthesize({ text: TEXT, config: { speed: 3 } }));
      expect(rpc.rawMessage).toBe("config.speed: 3 is out of range; allowed 0.5 to 2.0");
      expectOpenAiError(await apiError(speak(client, { speed: 3 })), 400, {
        message: "speed: 3 is out of range; allowed 0.5 to 2.0",
        param: "speed",
        code: "invalid_argument",
      });
      expectOpenAiError(await apiError(speak(client, { speed: 0.25 })), 400, {
        message: "speed: 0.25 is out of range; allowed 0.5 to 2.0",
        param: "speed",
        code: "invalid_argument",
      });
    });

    it("answers 404 for a voice that is not installed, listing the installed ones", async () => {
      expectOpenAiError(await apiError(speak(client, { voice: "xx_XX-nobody-low" })), 404, {
        message: `voice: no voice named "xx_XX-nobody-low"; installed voices: ${VOICE}`,
        param: "voice",
        code: "not_found",
      });
    });

    it("answers 404 for an unknown model", async () => {
      expectOpenAiError(await apiError(speak(client, { model: "tts-9" })), 404, {
        message: /^model: no model named "tts-9"; models: tts-1, /,
        param: "model",
        code: "not_found",
      });
    });

    it("refuses aac with 400 listing the supported formats", async () => {
      expectOpenAiError(await apiError(speak(client, { response_format: "aac" })), 400, {
        message: 'response_format: "aac" is not supported by this service; allowed mp3, opus, flac, wav, pcm',
        param: "response_format",
        code: "invalid_argument",
      });
    });

    it("refuses an unknown stream_format with 400 listing the allowed ones", async () => {
      expectOpenAiError(await apiError(speak(client, { stream_format: "ndjson" as never })), 400, {
        message: 'stream_format: "ndjson" is not supported by this service; allowed audio, sse',
        param: "stream_format",
        code: "invalid_argument",
      });
    });

    it("refuses a body that is not JSON with 400", async () => {
      const response = await fetch(`${running.baseUrl}/v1/audio/speech`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"model": "tts-1", "input": ',
      });
      expect(response.status).toBe(400);
      expect(mediaType(response)).toBe("application/json");
      const body = (await response.json()) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({ type: "invalid_request_error", param: null, code: "invalid_argument" });
      expect(body.error.message).toMatch(/^body: not valid JSON/);
    });

    it.each([
      ["text/plain", "text/plain"],
      ["a form", "application/x-www-form-urlencoded"],
      ["multipart", "multipart/form-data; boundary=x"],
      ["no content type", undefined],
    ])("refuses %s from another origin with 415 and speaks nothing: only application/json is taken", async (_name, type) => {
      const since = running.app.admission.stats();
      const response = await fetch(`${running.baseUrl}/v1/audio/speech`, {
        method: "POST",
        headers: { origin: "https://evil.example", ...(type === undefined ? {} : { "content-type": type }) },
        // A Blob without a type sends no content-type at all.
        body: new Blob(['{"model":"tts-1","input":"Speak for any web page.","voice":"alloy"}']),
      });
      expect(response.status).toBe(415);
      const body = (await response.json()) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({ param: null, code: "invalid_argument", type: "invalid_request_error" });
      expect(body.error.message).toMatch(/^content-type: .* is not accepted; send application\/json$/);
      expect(running.app.admission.stats().admitted).toBe(since.admitted);
    });

    it("refuses fields of the wrong type with 400 naming them", async () => {
      expectOpenAiError(await apiError(speak(client, { input: 42 as never })), 400, {
        message: "input: 42 is not a string; send the text to speak as a string",
        param: "input",
        code: "invalid_argument",
      });
      expectOpenAiError(await apiError(speak(client, { speed: "fast" as never })), 400, {
        message: 'speed: "fast" is not a number',
        param: "speed",
        code: "invalid_argument",
      });
    });
  });

  it("logs one line per call with method, path, status, duration and request id", async () => {
    const since = running.logLines.length;
    const requestId = "openai-log-test-1";
    await client.audio.speech.create(
      { model: "tts-1", voice: "alloy", input: "Logged.", response_format: "wav" },
      { headers: { "x-request-id": requestId } },
    );
    const line = await waitForLog(running, since, (l) => l.request_id === requestId);
    expect(line).toMatchObject({ msg: "http", method: "POST", path: "/v1/audio/speech", status: 200, code: "ok" });
    expect(typeof line.duration_ms).toBe("number");
    expect(running.logLines.slice(since).filter((l) => l.request_id === requestId)).toHaveLength(1);
  });
});

describe("OpenAI-compatible endpoint with API_KEYS, MAX_REQUESTS_PER_MINUTE and one synthesis slot", () => {
  const USER_KEY = "openai-user-key-5e8d2c7a9b1f";
  const LIMITED_KEY = "openai-limited-key-3c9e7a1d5b";
  const ADMISSION_KEY = "openai-admission-key-8f2b6d4e1a";
  const PER_MINUTE = 4;
  let running: RunningServer;

  beforeAll(async () => {
    running = await startServer({
      API_KEYS: [USER_KEY, LIMITED_KEY, ADMISSION_KEY].join(","),
      MAX_REQUESTS_PER_MINUTE: String(PER_MINUTE),
      MAX_CONCURRENT_REQUESTS: "1",
      MAX_QUEUE_SIZE: "0",
    });
  });
  afterAll(() => running?.app.close());

  it("refuses a call without a key or with a wrong one with 401", async () => {
    const wrong = openai(running, "openai-user-key-5e8d2c7a9b10");
    expectOpenAiError(await apiError(speak(wrong, {})), 401, {
      message: "invalid API key",
      param: null,
      code: "unauthenticated",
      type: "authentication_error",
    });
    expectOpenAiError(await apiError(wrong.models.list()), 401, {
      message: "invalid API key",
      param: null,
      code: "unauthenticated",
      type: "authentication_error",
    });
    const response = await fetch(`${running.baseUrl}/v1/models`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
      "missing API key: send the header authorization: Bearer <key>",
    );
  });

  it("serves a known key", async () => {
    const client = openai(running, USER_KEY);
    const { audio } = await speak(client, { response_format: "wav" });
    expect((await probe(audio)).codec).toBe("pcm_s16le");
    expect((await client.models.list()).data.length).toBeGreaterThan(0);
  });

  it("answers 429 with Retry-After past the key's rate, and the RPCs share the budget", async () => {
    const client = openai(running, LIMITED_KEY);
    for (let i = 0; i < PER_MINUTE; i++) await client.models.list();
    const error = await apiError(client.models.list());
    expectOpenAiError(error, 429, {
      message: /^rate limit: at most 4 calls a minute per client/,
      param: null,
      code: "resource_exhausted",
      type: "rate_limit_error",
    });
    expect(Number(error.headers?.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(error.headers?.get("retry-after-ms"))).toBeGreaterThan(0);
    // The same key over gRPC finds the same empty bucket.
    const tts = createClient(
      TtsService,
      transportFor(running.baseUrl, "gRPC", {
        interceptors: [
          (next) => (req) => {
            req.header.set("authorization", `Bearer ${LIMITED_KEY}`);
            return next(req);
          },
        ],
      }),
    );
    expect((await callError(tts.listVoices({}))).code).toBe(Code.ResourceExhausted);
  });

  it("answers 429 with Retry-After when every synthesis slot is taken and no queue is allowed, and stops a synthesis whose client left", async () => {
    const client = openai(running, ADMISSION_KEY);
    const since = running.logLines.length;
    const leaving = new AbortController();
    const long = speak(client, { input: proseOfLength(1500), response_format: "wav" }, { signal: leaving.signal }).catch(
      (error: unknown) => error,
    );
    await waitUntil(() => running.app.admission.stats().running === 1, "the long synthesis holds the slot");
    const error = await apiError(speak(client, { input: "Another one.", response_format: "wav" }));
    expectOpenAiError(error, 429, { param: null, code: "resource_exhausted", type: "rate_limit_error" });
    expect(Number(error.headers?.get("retry-after"))).toBeGreaterThanOrEqual(1);
    leaving.abort();
    await long;
    const line = await waitForLog(running, since, (l) => l.msg === "http" && l.code === "canceled");
    expect(line.status).toBe(499);
    await waitUntil(() => running.app.admission.stats().running === 0, "the slot is given back");
  });
});

describe("OpenAI-compatible endpoint shut down mid-stream (SHUTDOWN_GRACE_SECONDS=0)", () => {
  let running: RunningServer;

  beforeAll(async () => {
    running = await startServer({ SHUTDOWN_GRACE_SECONDS: "0" });
  });
  afterAll(() => running?.app.close());

  it("cuts off a stream whose 200 is out: the client gets an incomplete body, not a short file", async () => {
    const requestId = "openai-stream-cut-off";
    const since = running.logLines.length;
    const response = await postSpeech(running, { input: proseOfLength(LONG_CHARS), response_format: "wav" }, requestId);
    expect(response.statusCode).toBe(200);
    const chunks = response[Symbol.asyncIterator]();
    const first = (await chunks.next()).value as Uint8Array;
    expect(running.app.admission.stats().running).toBe(1);
    const closed = running.app.close();
    await expect(rest(first, chunks)).rejects.toThrow(/aborted/);
    await closed;
    const line = await waitForLog(running, since, (l) => l.request_id === requestId);
    expect(line).toMatchObject({ msg: "http", code: "unavailable", status: 503 });
    const stopped = await waitForLog(running, since, (l) => l.msg === "synthesis stopped early");
    expect(stopped.aborted).toBe(true);
  });
});
