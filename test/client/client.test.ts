// The typed Node client (`createTtsClient` from "@aetheros/tts-client", here from its source) against the real
// service on an ephemeral port: both of its protocols synthesize decodable audio and
// stream start, chunks and summary as an async iterable; apiKey travels as a bearer token
// and the server refuses calls without it; defaultTimeoutMs is the deadline of every call
// unless the call brings its own timeoutMs.

import { Code, type Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, createTtsClient, HealthStatus, type TtsClientOptions } from "../../clients/node/src/index.js";
import { callError, startServer, type RunningServer } from "../server/running-server.js";
import { proseOfLength, untilIdle } from "../server/support.js";
import { collectStream, decode, probe, VOICE, VOICE_RATE } from "../synthesis/support.js";

const API_KEY = "client-test-key-5e8b1d7c3a9f";
const TEXT = "The client speaks gRPC by default. It can speak Connect as well.";
const WAV = { encoding: AudioEncoding.WAV };

let running: RunningServer;
beforeAll(async () => {
  running = await startServer({ API_KEYS: API_KEY });
});
afterAll(() => running.app.close());

/** What the client puts on the wire for each call, seen by an interceptor after its own. */
interface Sent {
  contentType: string | null;
  authorization: string | null;
}

function client(options: Partial<TtsClientOptions> = {}) {
  const sent: Sent[] = [];
  const observe: Interceptor = (next) => (request) => {
    sent.push({ contentType: request.header.get("content-type"), authorization: request.header.get("authorization") });
    return next(request);
  };
  const tts = createTtsClient({ baseUrl: running.baseUrl, apiKey: API_KEY, ...options, interceptors: [observe] });
  return { tts, sent };
}

async function drain(messages: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of messages);
}

/** Waits until no synthesis is running or queued, so an abandoned call does not slow the next test. */
const GRPC = /^application\/grpc(\+proto)?$/;

it("speaks gRPC when no protocol is given", async () => {
  const { tts, sent } = client();
  expect((await tts.synthesize({ text: "Hello.", config: WAV })).audio.length).toBeGreaterThan(0);
  expect(sent.map((s) => s.contentType)).toEqual([expect.stringMatching(GRPC)]);
});

describe.each([
  { protocol: "grpc", contentType: GRPC },
  { protocol: "connect", contentType: /^application\/(connect\+)?proto$/ },
] as const)("protocol $protocol", ({ protocol, contentType }) => {
  it("synthesizes a WAV that ffmpeg decodes to the reported duration", async () => {
    const { tts, sent } = client({ protocol });
    const response = await tts.synthesize({ text: TEXT, config: WAV });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.contentType).toMatch(contentType);

    expect(response).toMatchObject({ encoding: AudioEncoding.WAV, sampleRate: VOICE_RATE, cached: false, textLength: TEXT.length });
    expect(response.modelUsed).toContain(VOICE);
    expect(await probe(response.audio)).toEqual({ codec: "pcm_s16le", sampleRate: VOICE_RATE, channels: 1 });
    const samples = await decode(response.audio);
    expect(response.durationSeconds).toBeGreaterThan(2);
    expect(samples.length).toBe(Math.round(response.durationSeconds * VOICE_RATE));
  });

  it("streams start, chunks and summary as an async iterable; the chunks make one decodable WAV", async () => {
    const { tts, sent } = client({ protocol });
    const collected = await collectStream(tts.synthesizeStream({ text: TEXT, config: WAV }));
    expect(sent[0]!.contentType).toMatch(contentType);

    expect(collected.cases[0]).toBe("start");
    expect(collected.cases.at(-1)).toBe("summary");
    expect(collected.cases.slice(1, -1).every((c) => c === "chunk")).toBe(true);
    expect(collected.start).toMatchObject({ encoding: AudioEncoding.WAV, sampleRate: VOICE_RATE, channels: 1, voice: VOICE });
    expect(collected.chunks.map((chunk) => chunk.sequence)).toEqual(collected.chunks.map((_, i) => i));
    // Two sentences, each with audio of its own.
    expect([...new Set(collected.chunks.map((chunk) => chunk.sentenceIndex))]).toEqual([0, 1]);
    const summary = collected.summary!;
    expect(summary).toMatchObject({
      sentenceCount: 2,
      chunkCount: collected.chunks.length,
      audioBytes: BigInt(collected.audio.length),
      cached: false,
    });

    expect(await probe(collected.audio)).toEqual({ codec: "pcm_s16le", sampleRate: VOICE_RATE, channels: 1 });
    const samples = await decode(collected.audio);
    expect(summary.durationSeconds).toBeGreaterThan(2);
    expect(Math.abs(samples.length / VOICE_RATE - summary.durationSeconds)).toBeLessThanOrEqual(0.02);
  });

  it("lists the installed voice and reports SERVING", async () => {
    const { tts } = client({ protocol });
    const { voices, defaultVoice } = await tts.listVoices({});
    expect(defaultVoice).toBe(VOICE);
    expect(voices.map((voice) => voice.id)).toContain(VOICE);
    expect(await tts.health({})).toMatchObject({ status: HealthStatus.SERVING, modelLoaded: true, defaultVoice: VOICE });
  });

  it("sends apiKey as `authorization: Bearer <key>`; without it, or with a wrong one, every call is UNAUTHENTICATED", async () => {
    const keyed = client({ protocol });
    await keyed.tts.health({});
    await drain(keyed.tts.synthesizeStream({ text: "Yes.", config: { encoding: AudioEncoding.PCM } }));
    expect(keyed.sent.map((s) => s.authorization)).toEqual([`Bearer ${API_KEY}`, `Bearer ${API_KEY}`]);

    for (const apiKey of [undefined, `${API_KEY}x`]) {
      const refused = client({ protocol, apiKey });
      expect((await callError(refused.tts.health({}))).code).toBe(Code.Unauthenticated);
      expect((await callError(refused.tts.synthesize({ text: "No.", config: WAV }))).code).toBe(Code.Unauthenticated);
      expect((await callError(drain(refused.tts.synthesizeStream({ text: "No.", config: WAV })))).code).toBe(Code.Unauthenticated);
      expect(refused.sent.map((s) => s.authorization)).toEqual(Array(3).fill(apiKey === undefined ? null : `Bearer ${apiKey}`));
    }
  });

  it("applies defaultTimeoutMs to every call, and a call's own timeoutMs overrides it", async () => {
    // 20 ms cannot fit a synthesis of a few hundred characters; two minutes easily can.
    const { tts } = client({ protocol, defaultTimeoutMs: 20 });
    const text = proseOfLength(300);
    try {
      expect((await callError(tts.synthesize({ text, config: WAV }))).code).toBe(Code.DeadlineExceeded);
      expect((await callError(drain(tts.synthesizeStream({ text, config: WAV })))).code).toBe(Code.DeadlineExceeded);
      await untilIdle(running);

      // The very same requests, each with its own deadline.
      const response = await tts.synthesize({ text, config: WAV }, { timeoutMs: 120_000 });
      expect(response.durationSeconds).toBeGreaterThan(5);
      const collected = await collectStream(tts.synthesizeStream({ text, config: WAV }, { timeoutMs: 120_000 }));
      expect(collected.cases.at(-1)).toBe("summary");
      expect(collected.summary!.durationSeconds).toBeGreaterThan(5);
    } finally {
      await untilIdle(running);
    }
  });
});
