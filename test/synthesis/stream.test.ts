// SynthesizeStream end to end: message order and numbering, chunk sizes, the summary's
// counts, the concatenated chunks decoded by ffmpeg as one file; and, without any timing
// assertion, that audio leaves before the whole text is synthesized and that a
// cancelled or timed-out stream stops the remaining work (the server's "synthesis
// stopped early" log line counts the sentences synthesized).

import { readFileSync } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, type SynthesizeStreamResponse } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { bestLag, correlation, expectSameSpeech } from "../audio/support.js";
import { startServer, type RunningServer } from "../server/running-server.js";
import {
  collectStream,
  decode,
  ENCODINGS,
  grpcJsClient,
  MP3_STREAM_LEAD,
  mp3SamplesPerFrame,
  NO_NOISE,
  probe,
  ttsClient,
  VOICE,
  VOICE_RATE,
  waitForLog,
  type CollectedStream,
  type TransportName,
  type Config,
} from "./support.js";

const CHUNK_SIZE = 4096;
const TEXT = "Streams arrive sentence by sentence. Each one is sent as soon as it is ready. The last one ends the file.";

// Twelve sentences, about a thousand characters.
const PARAGRAPH = [
  "The lighthouse keeper climbed the narrow stairs every evening before the sun went down.",
  "He carried a small lantern, a notebook, and a flask of strong black tea.",
  "At the top he cleaned the great lens until it shone like still water.",
  "Ships passed far out on the grey horizon, their lights blinking in reply.",
  "Some nights the fog rolled in so thickly that he could not see his own hands.",
  "On those nights he wound the horn and listened to it call across the bay.",
  "In the morning he wrote down the weather, the tides, and the names of the boats.",
  "Nobody ever read the notebooks, but he kept them neatly on a shelf by the door.",
  "Years later a young woman found them and read every page in a single winter.",
  "She said the notebooks told the story of the coast better than any history book.",
  "The lighthouse is automatic now, and its lamp turns without anyone to watch it.",
  "But the notebooks are still there, waiting on the shelf for the next reader.",
].join(" ");

const golden = JSON.parse(readFileSync("test/golden/audio.json", "utf8")) as { items: { file: string; text: string }[] };

let running: RunningServer;
beforeAll(async () => {
  running = await startServer({ STREAM_CHUNK_SIZE: String(CHUNK_SIZE) });
});
afterAll(() => running.app.close());

function stream(text: string, config: Config, via: TransportName = "gRPC"): Promise<CollectedStream> {
  return collectStream(ttsClient(running, via).synthesizeStream({ text, config: { useCache: false, ...config } }));
}

/** The checks every complete stream must pass: order, numbering, sizes, summary. */
function expectWellFormed(collected: CollectedStream, sentenceCount: number): void {
  const { cases, chunks, summary } = collected;
  expect(cases[0]).toBe("start");
  expect(cases.at(-1)).toBe("summary");
  expect(cases.slice(1, -1).every((c) => c === "chunk")).toBe(true);
  expect(chunks.map((chunk) => chunk.sequence)).toEqual(chunks.map((_, i) => i));
  const sentences = chunks.map((chunk) => chunk.sentenceIndex);
  for (let i = 1; i < sentences.length; i++) expect(sentences[i]).toBeGreaterThanOrEqual(sentences[i - 1]!);
  // Every sentence sends audio of its own, in order.
  expect([...new Set(sentences)]).toEqual([...Array(sentenceCount).keys()]);
  for (const chunk of chunks) {
    expect(chunk.audio.length).toBeGreaterThan(0);
    expect(chunk.audio.length).toBeLessThanOrEqual(CHUNK_SIZE);
  }
  expect(summary).toMatchObject({ chunkCount: chunks.length, audioBytes: BigInt(collected.audio.length), sentenceCount, cached: false });
}

describe.each(ENCODINGS)("SynthesizeStream $name", ({ value, codec }) => {
  const rate = value === AudioEncoding.OGG_OPUS ? 48000 : VOICE_RATE;

  it("sends start, numbered chunks of at most STREAM_CHUNK_SIZE bytes, and a summary that adds up; the chunks are one file", async () => {
    const collected = await stream(TEXT, { ...NO_NOISE, encoding: value });
    expectWellFormed(collected, 3);
    expect(collected.start).toMatchObject({ encoding: value, sampleRate: rate, channels: 1, voice: VOICE, modelUsed: `piper:${VOICE}` });

    const rawRate = value === AudioEncoding.PCM ? rate : undefined;
    expect(await probe(collected.audio, rawRate)).toEqual({ codec, sampleRate: rate, channels: 1 });
    const decoded = await decode(collected.audio, { rawRate });
    const seconds = decoded.length / rate;
    const duration = collected.summary!.durationSeconds;
    if (value === AudioEncoding.MP3) {
      // No Info frame in a stream: decoders play LAME's delay and keep up to two frames of padding.
      expect(seconds - duration).toBeGreaterThanOrEqual(MP3_STREAM_LEAD / rate);
      expect(seconds - duration).toBeLessThanOrEqual((MP3_STREAM_LEAD + 2 * mp3SamplesPerFrame(rate)) / rate);
    } else {
      expect(Math.abs(seconds - duration)).toBeLessThanOrEqual(0.02);
    }

    // The same speech as a unary call for the same text.
    const unary = await ttsClient(running).synthesize({
      text: TEXT,
      config: { ...NO_NOISE, encoding: AudioEncoding.WAV, useCache: false },
    });
    expect(duration).toBeCloseTo(unary.durationSeconds, 6);
    const expected = await decode(unary.audio);
    const actual = value === AudioEncoding.OGG_OPUS ? await decode(collected.audio, { outputRate: VOICE_RATE }) : decoded;
    if (value === AudioEncoding.MP3) {
      const lag = bestLag(expected, actual, MP3_STREAM_LEAD + 20);
      expect(lag).toBe(MP3_STREAM_LEAD);
      expect(correlation(expected, actual.subarray(lag, lag + expected.length))).toBeGreaterThan(0.98);
    } else if (value === AudioEncoding.OGG_OPUS) {
      expect(correlation(expected, actual.subarray(0, expected.length))).toBeGreaterThan(0.98);
    } else {
      expectSameSpeech(actual, expected);
    }
  });
});

describe("SynthesizeStream at other rates", () => {
  it.each([
    { name: "MP3", encoding: AudioEncoding.MP3, rate: 8000 },
    { name: "MP3", encoding: AudioEncoding.MP3, rate: 44100 },
    { name: "FLAC", encoding: AudioEncoding.FLAC, rate: 48000 },
    { name: "WAV", encoding: AudioEncoding.WAV, rate: 16000 },
  ])("$name at $rate Hz decodes as one file at that rate", async ({ encoding, rate }) => {
    const collected = await stream(TEXT, { ...NO_NOISE, encoding, sampleRate: rate }, "Connect");
    expectWellFormed(collected, 3);
    expect(collected.start).toMatchObject({ encoding, sampleRate: rate, channels: 1 });
    expect((await probe(collected.audio)).sampleRate).toBe(rate);
    const seconds = (await decode(collected.audio)).length / rate;
    const duration = collected.summary!.durationSeconds;
    if (encoding === AudioEncoding.MP3) {
      // At 8 kHz the lead alone is 138 ms.
      expect(seconds - duration).toBeGreaterThanOrEqual(MP3_STREAM_LEAD / rate);
      expect(seconds - duration).toBeLessThanOrEqual((MP3_STREAM_LEAD + 2 * mp3SamplesPerFrame(rate)) / rate);
    } else {
      expect(Math.abs(seconds - duration)).toBeLessThanOrEqual(0.02);
    }
  });
});

describe("one stream, every client", () => {
  it("Connect, gRPC and @grpc/grpc-js receive the same bytes in the same chunks", async () => {
    const config = { ...NO_NOISE, encoding: AudioEncoding.FLAC };
    const viaGrpc = await stream(TEXT, config, "gRPC");
    const viaConnect = await stream(TEXT, config, "Connect");
    const client = grpcJsClient(running);
    try {
      const call = client.synthesizeStream!({
        text: TEXT,
        config: { ...config, useCache: false },
      }) as grpc.ClientReadableStream<SynthesizeStreamResponse>;
      const viaGrpcJs = await collectStream(call);
      for (const other of [viaConnect, viaGrpcJs]) {
        expect(other.cases).toEqual(viaGrpc.cases);
        expect(other.chunks.map((c) => [c.sequence, c.sentenceIndex, c.audio.length])).toEqual(
          viaGrpc.chunks.map((c) => [c.sequence, c.sentenceIndex, c.audio.length]),
        );
        expect(Buffer.from(other.audio).equals(Buffer.from(viaGrpc.audio))).toBe(true);
      }
    } finally {
      client.close();
    }
  });
});

describe("incremental streaming and early stops", () => {
  it("a client that reads the first chunk and cancels gets it before the rest is synthesized, and the rest is never synthesized", async () => {
    expect(PARAGRAPH.length).toBeGreaterThanOrEqual(900);
    expect(PARAGRAPH.length).toBeLessThanOrEqual(1100);
    const since = running.logLines.length;
    const controller = new AbortController();
    const received: SynthesizeStreamResponse[] = [];
    const call = ttsClient(running, "gRPC").synthesizeStream(
      { text: PARAGRAPH, config: { encoding: AudioEncoding.WAV, useCache: false } },
      { signal: controller.signal },
    );
    let error: unknown;
    try {
      for await (const message of call) {
        received.push(message);
        if (message.event.case === "chunk") controller.abort();
      }
    } catch (err) {
      error = err;
    }
    expect(ConnectError.from(error).code).toBe(Code.Canceled);
    expect(received.map((m) => m.event.case)).toEqual(["start", "chunk"]);

    const stopped = await waitForLog(running, since, (line) => line.msg === "synthesis stopped early");
    expect(stopped).toMatchObject({ voice: VOICE, aborted: true });
    expect(stopped.sentences_total).toBeGreaterThanOrEqual(10);
    expect(stopped.sentences_done).toBeLessThanOrEqual(3);
  });

  // One sentence of 1062 phonemes (the longest golden line): about a minute of audio and
  // seconds of decoding here, so the cancel lands long before its last window.
  const LONG_SENTENCE = golden.items.find((item) => item.file === "audio/10.wav")!.text;
  it.each([
    ["text", { text: LONG_SENTENCE }],
    ["an SSML document", { ssml: `<speak><prosody rate="90%">${LONG_SENTENCE}</prosody></speak>` }],
  ])("at the model's own level a sentence's first audio leaves before the rest of the sentence is decoded (%s)", async (_, input) => {
    const since = running.logLines.length;
    const controller = new AbortController();
    const call = ttsClient(running, "gRPC").synthesizeStream(
      { ...input, config: { encoding: AudioEncoding.PCM, useCache: false } },
      { signal: controller.signal },
    );
    await expect(
      (async () => {
        for await (const message of call) if (message.event.case === "chunk") controller.abort();
      })(),
    ).rejects.toThrow();
    const stopped = await waitForLog(running, since, (line) => line.msg === "synthesis stopped early");
    expect(stopped).toMatchObject({ sentences_total: 1, sentences_done: 0, aborted: true });
  });

  // When a client cancels, connect-node's next write fails on the closed HTTP/2 stream; that
  // is the client's doing and must not be logged as a server fault.
  it("a cancelled stream is logged as canceled, not as a server fault", async () => {
    const since = running.logLines.length;
    const controller = new AbortController();
    const requestId = `cancel-log-${Math.random().toString(36).slice(2)}`;
    const call = ttsClient(running, "gRPC").synthesizeStream(
      { text: PARAGRAPH, config: { encoding: AudioEncoding.WAV, useCache: false } },
      { signal: controller.signal, headers: { "x-request-id": requestId } },
    );
    await expect(
      (async () => {
        for await (const message of call) if (message.event.case === "chunk") controller.abort();
      })(),
    ).rejects.toThrow();
    const rpc = await waitForLog(running, since, (line) => line.request_id === requestId && line.msg === "rpc");
    expect(rpc).toMatchObject({ method: "aetheros.tts.v1.TtsService/SynthesizeStream", code: "canceled", level: 30 });
  });

  it("a @grpc/grpc-js client that cancels after the first chunk stops the work the same way", async () => {
    const since = running.logLines.length;
    const client = grpcJsClient(running);
    try {
      const call = client.synthesizeStream!({
        text: PARAGRAPH,
        config: { encoding: AudioEncoding.MP3, useCache: false },
      }) as grpc.ClientReadableStream<SynthesizeStreamResponse>;
      const cases: string[] = [];
      call.on("data", (message: SynthesizeStreamResponse) => {
        cases.push(message.event.case ?? "none");
        if (message.event.case === "chunk" && !call.destroyed) call.cancel();
      });
      call.on("error", () => {}); // the status below says how it ended
      const status = await new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
      expect(status.code).toBe(grpc.status.CANCELLED);
      expect(cases.slice(0, 2)).toEqual(["start", "chunk"]);
      expect(cases).not.toContain("summary");
    } finally {
      client.close();
    }
    const stopped = await waitForLog(running, since, (line) => line.msg === "synthesis stopped early");
    expect(stopped.sentences_total).toBeGreaterThanOrEqual(10);
    expect(stopped.sentences_done).toBeLessThanOrEqual(3);
  });

  it("a deadline that passes mid-stream ends the call with DEADLINE_EXCEEDED and stops the work; the server then answers normally", async () => {
    // A two-phoneme first sentence that is synthesized at once even on a loaded machine,
    // then four times the paragraph: tens of seconds of synthesis here, against a deadline
    // of three.
    const text = ["Hi.", PARAGRAPH, PARAGRAPH, PARAGRAPH, PARAGRAPH].join(" ");
    const since = running.logLines.length;
    const received: string[] = [];
    let error: unknown;
    try {
      const call = ttsClient(running, "gRPC").synthesizeStream(
        { text, config: { encoding: AudioEncoding.WAV, useCache: false } },
        { timeoutMs: 3000 },
      );
      for await (const message of call) received.push(message.event.case ?? "none");
    } catch (err) {
      error = err;
    }
    expect(ConnectError.from(error).code).toBe(Code.DeadlineExceeded);
    expect(received[0]).toBe("start");
    expect(received).toContain("chunk");
    expect(received).not.toContain("summary");

    // Earlier tests' cancelled streams may log their own stop late: pick this stream's line.
    const stopped = await waitForLog(
      running,
      since,
      (line) => line.msg === "synthesis stopped early" && (line.sentences_total as number) >= 45,
    );
    expect(stopped.aborted).toBe(true);
    expect(stopped.sentences_done).toBeLessThan(stopped.sentences_total as number);

    const after = await stream("Still here.", { encoding: AudioEncoding.WAV });
    expectWellFormed(after, 1);
    expect(after.summary!.durationSeconds).toBeGreaterThan(0.3);
  });
});
