// StreamingSynthesize end to end, against the real server over gRPC (connect-node's gRPC
// transport and @grpc/grpc-js) and Connect over HTTP/2: text sent token by token is spoken
// sentence by sentence as the text comes, with the audio Synthesize gives for the same
// sentences; flush speaks a fragment; cancel stops one utterance and the stream goes on;
// word timestamps map back to the text sent; protocol mistakes get a status naming the rule.
// No timing bounds: orderings are proved by what was sent when each message arrived.

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AudioEncoding,
  type StreamingSynthesizeRequest,
  StreamingSynthesizeRequestSchema,
  type StreamingSynthesizeResponse,
  type Timepoint,
  type WordTimestamp,
} from "../../gen/aetheros/tts/v1/tts_pb.js";
import { RequestQueue } from "../../clients/node/src/index.js";
import { expectSameSpeech } from "../audio/support.js";
import { startServer, type RunningServer } from "../server/running-server.js";
import { proseOfLength, untilIdle, waitUntil } from "../server/support.js";
import { type Config, grpcJsClient, NO_NOISE, ttsClient, type TransportName, VOICE_RATE } from "./support.js";

const CONFIG: Config = { encoding: AudioEncoding.PCM, ...NO_NOISE };
const REPLY =
  "Sure, I can help with that. Dr. Smith's train leaves at 7:15, and the ticket costs 3.14 dollars... " +
  "Would you like me to book it? It's on platform 9!";

let running: RunningServer;

beforeAll(async () => {
  running = await startServer({ STREAMING_IDLE_TIMEOUT_SECONDS: "2" });
}, 120_000);

afterAll(async () => {
  await running?.app.close();
});

/** "Hello there." → ["Hello", " there", "."]: word-sized pieces, as a language model sends them. */
function tokens(text: string): string[] {
  return text.match(/\s*[\p{L}\p{N}']+|\s*[^\s\p{L}\p{N}']+|\s+$/gu) ?? [];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function input(text: string, options: { contextId?: string; flush?: boolean; end?: boolean } = {}): StreamingSynthesizeRequest {
  return create(StreamingSynthesizeRequestSchema, {
    request: {
      case: "input",
      value: { text, contextId: options.contextId ?? "", flush: options.flush ?? false, endUtterance: options.end ?? false },
    },
  });
}

function documentInput(ssml: string, options: { contextId?: string; end?: boolean } = {}): StreamingSynthesizeRequest {
  return create(StreamingSynthesizeRequestSchema, {
    request: { case: "input", value: { ssml, contextId: options.contextId ?? "", endUtterance: options.end ?? false } },
  });
}

function configMessage(config: Config = CONFIG, extra: { maxBufferDelayMs?: number; maxBufferedCharacters?: number } = {}) {
  return create(StreamingSynthesizeRequestSchema, { request: { case: "config", value: { config, ...extra } } });
}

function cancel(contextId: string): StreamingSynthesizeRequest {
  return create(StreamingSynthesizeRequestSchema, { request: { case: "cancel", value: { contextId } } });
}

/** A bidi call whose responses are collected as they come, with a note of what was sent before each. */
class Session {
  readonly requests = new RequestQueue<StreamingSynthesizeRequest>();
  readonly received: { message: StreamingSynthesizeResponse; sentBefore: number }[] = [];
  sent = 0;
  readonly done: Promise<ConnectError | undefined>;

  constructor(responses: (requests: AsyncIterable<StreamingSynthesizeRequest>) => AsyncIterable<StreamingSynthesizeResponse>) {
    this.done = (async () => {
      try {
        for await (const message of responses(this.requests)) this.received.push({ message, sentBefore: this.sent });
        return undefined;
      } catch (error) {
        return ConnectError.from(error);
      }
    })();
  }

  send(message: StreamingSynthesizeRequest): void {
    this.sent++;
    this.requests.push(message);
  }

  end(): void {
    this.requests.end();
  }

  events(contextId?: string) {
    return this.received
      .map((r) => r.message.event)
      .filter((e) => contextId === undefined || !("contextId" in e.value!) || e.value.contextId === contextId);
  }

  audio(contextId = ""): Int16Array {
    const bytes = Buffer.concat(
      this.events(contextId).flatMap((e) => (e.case === "chunk" && e.value.contextId === contextId ? [e.value.audio] : [])),
    );
    return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  }

  words(contextId = ""): WordTimestamp[] {
    return this.events(contextId).flatMap((e) => (e.case === "timestamps" && e.value.contextId === contextId ? e.value.words : []));
  }

  timepoints(contextId = ""): Timepoint[] {
    return this.events(contextId).flatMap((e) => (e.case === "timestamps" && e.value.contextId === contextId ? e.value.timepoints : []));
  }

  async until(what: string, check: () => boolean, limitMs = 120_000): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (!check()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting until ${what}; received ${JSON.stringify(this.received.map((r) => r.message.event.case))}`);
      await sleep(5);
    }
  }
}

function connectSession(transport: TransportName): Session {
  const client = ttsClient(running, transport);
  return new Session((requests) => client.streamingSynthesize(requests));
}

function grpcJsSession(): Session {
  const client = grpcJsClient(running);
  return new Session((requests) => {
    const call = (client.streamingSynthesize as () => grpc.ClientDuplexStream<StreamingSynthesizeRequest, StreamingSynthesizeResponse>)();
    void (async () => {
      for await (const request of requests) call.write(request);
      call.end();
    })();
    return (async function* () {
      try {
        for await (const message of call) yield message as StreamingSynthesizeResponse;
      } catch (error) {
        const status = error as grpc.ServiceError;
        throw new ConnectError(status.details, status.code as number as Code);
      }
    })();
  });
}

async function unaryPcm(text: string, config: Config = CONFIG): Promise<Int16Array> {
  const response = await ttsClient(running).synthesize({ text, config });
  return new Int16Array(response.audio.buffer.slice(response.audio.byteOffset, response.audio.byteOffset + response.audio.byteLength));
}

async function sendTokens(session: Session, text: string, gapMs: number, contextId = ""): Promise<void> {
  for (const token of tokens(text)) {
    session.send(input(token, { contextId }));
    await sleep(gapMs);
  }
}

describe.each<[string, () => Session]>([
  ["gRPC (connect-node)", () => connectSession("gRPC")],
  ["gRPC (@grpc/grpc-js)", grpcJsSession],
  ["Connect (HTTP/2)", () => connectSession("Connect")],
])("StreamingSynthesize over %s", (_name, open) => {
  it("speaks a tokenized reply sentence by sentence with the audio Synthesize gives the whole reply", async () => {
    const session = open();
    session.send(configMessage({ ...CONFIG, sentenceSilence: 0.2 }));
    await sendTokens(session, REPLY, 30);
    session.end();
    expect(await session.done).toBeUndefined();
    const cases = session.events().map((e) => e.case);
    expect(cases[0]).toBe("start");
    expect(cases.at(-1)).toBe("utteranceEnd");
    const streamed = session.audio();
    const whole = await unaryPcm(REPLY, { ...CONFIG, sentenceSilence: 0.2 });
    expectSameSpeech(streamed, whole);
    // Several sentences, each its own index.
    const sentences = new Set(session.events().flatMap((e) => (e.case === "chunk" ? [e.value.sentenceIndex] : [])));
    expect(sentences.size).toBeGreaterThanOrEqual(4);
  }, 180_000);
});

describe("StreamingSynthesize as text arrives", () => {
  it("sends the first audio of sentence 1 before sentence 2's first token is sent", async () => {
    const session = connectSession("gRPC");
    session.send(configMessage());
    await sendTokens(session, "The first sentence is short.", 30);
    const sentAfterFirst = session.sent;
    await session.until("sentence 1's first chunk", () => session.events().some((e) => e.case === "chunk"));
    const firstChunk = session.received.find((r) => r.message.event.case === "chunk")!;
    expect(firstChunk.sentBefore).toBe(sentAfterFirst);
    await sendTokens(session, " The second one follows it.", 30);
    session.end();
    expect(await session.done).toBeUndefined();
    const end = session.events().find((e) => e.case === "utteranceEnd")!;
    expect(end.value.summary!.sentenceCount).toBe(2);
  }, 180_000);

  it("speaks a mid-sentence fragment on flush, before any more text comes", async () => {
    const session = connectSession("gRPC");
    session.send(configMessage({ ...CONFIG, enableWordTimestamps: true }, { maxBufferDelayMs: 10_000 }));
    session.send(input("The quick brown fox"));
    session.send(input(" jumps", { flush: true }));
    const sent = session.sent;
    await session.until("the fragment's audio", () => session.events().some((e) => e.case === "chunk"));
    expect(session.received.find((r) => r.message.event.case === "chunk")!.sentBefore).toBe(sent);
    expect(session.words().map((w) => w.word)).toEqual(["The", "quick", "brown", "fox", "jumps"]);
    session.end();
    expect(await session.done).toBeUndefined();
    const fragment = await unaryPcm("The quick brown fox jumps");
    expectSameSpeech(session.audio(), fragment);
  }, 180_000);

  it("cancel stops an utterance's audio at once, and the next utterance on the stream speaks", async () => {
    const session = connectSession("gRPC");
    session.send(configMessage());
    const long = Array.from({ length: 8 }, (_, i) => `This is sentence number ${i + 1} of a reply the user will interrupt.`).join(" ");
    session.send(input(long, { contextId: "first", end: true }));
    await session.until("the first utterance's audio", () => session.events("first").some((e) => e.case === "chunk"));
    session.send(cancel("first"));
    await session.until("the cancellation", () => session.events("first").some((e) => e.case === "utteranceEnd"));
    const ack = session.received.findIndex((r) => r.message.event.case === "utteranceEnd");
    session.send(input("Okay, stopping here.", { contextId: "second", end: true }));
    session.end();
    expect(await session.done).toBeUndefined();
    const after = session.received.slice(ack + 1).map((r) => r.message.event);
    expect(after.filter((e) => e.case === "chunk" && e.value.contextId === "first")).toEqual([]);
    const firstEnd = session.events("first").find((e) => e.case === "utteranceEnd")!.value;
    expect(firstEnd).toMatchObject({ contextId: "first", cancelled: true });
    expect(firstEnd.summary!.sentenceCount).toBeLessThan(8);
    const secondEnd = session.events("second").find((e) => e.case === "utteranceEnd")!.value;
    expect(secondEnd).toMatchObject({ contextId: "second", cancelled: false });
    expectSameSpeech(session.audio("second"), await unaryPcm("Okay, stopping here."));
  }, 180_000);

  it("word timestamps are in order, cover every word and map back to the text sent", async () => {
    const session = connectSession("Connect");
    session.send(configMessage({ ...CONFIG, enableWordTimestamps: true, sentenceSilence: 0.5 }));
    await sendTokens(session, REPLY, 5);
    session.send(input("", { end: true }));
    session.end();
    expect(await session.done).toBeUndefined();
    const words = session.words();
    const text = Array.from(REPLY);
    for (const word of words) expect(text.slice(word.textStart, word.textEnd).join("")).toBe(word.word);
    expect(words.map((w) => w.word)).toEqual(
      [
        "Sure",
        "I",
        "can",
        "help",
        "with",
        "that",
        "Dr",
        "Smith's",
        "train",
        "leaves",
        "at",
        "7:15",
        "and",
        "the",
        "ticket",
        "costs",
        "3.14",
        "dollars",
      ].concat(["Would", "you", "like", "me", "to", "book", "it", "It's", "on", "platform", "9"]),
    );
    for (const [i, word] of words.entries()) {
      expect(word.endSeconds).toBeGreaterThan(word.startSeconds);
      if (i > 0) expect(word.startSeconds).toBeGreaterThanOrEqual(words[i - 1]!.endSeconds);
    }
    const duration = session.audio().length / VOICE_RATE;
    expect(words.at(-1)!.endSeconds).toBeLessThanOrEqual(duration);
    // Between sentences, the 0.5 s of silence: the next sentence's first word starts after it.
    const firstOfSentence = words.filter((w, i) => i > 0 && w.sentenceIndex !== words[i - 1]!.sentenceIndex);
    for (const word of firstOfSentence) {
      const previous = words[words.indexOf(word) - 1]!;
      expect(word.startSeconds - previous.endSeconds).toBeGreaterThanOrEqual(0.5);
    }
  }, 180_000);
});

describe("StreamingSynthesize ahead of certainty", () => {
  it("synthesizes a sentence that ends the text so far ahead, before its end is certain, and speaks it from that", async () => {
    const session = connectSession("gRPC");
    const { admission } = running.app;
    await untilIdle(running);
    const admittedBefore = admission.stats().admitted;
    // "." may still be an abbreviation's until the next character: a probable end waits 1 s here.
    session.send(configMessage(CONFIG, { maxBufferDelayMs: 10_000 }));
    session.send(input("A sentence synthesized ahead."));
    await session.until("the synthesis ahead", () => admission.stats().admitted > admittedBefore);
    expect(session.events().filter((e) => e.case === "chunk")).toEqual([]);
    session.send(input(" And one more.", { end: true }));
    session.end();
    expect(await session.done).toBeUndefined();
    // The first sentence was synthesized once, ahead; the second once.
    expect(admission.stats().admitted - admittedBefore).toBe(2);
    const whole = await ttsClient(running).synthesize({ text: "A sentence synthesized ahead. And one more.", config: CONFIG });
    expectSameSpeech(session.audio(), whole.audio);
  }, 180_000);

  it("drops the synthesis ahead when the next character shows the sentence goes on", async () => {
    const session = connectSession("gRPC");
    session.send(configMessage(CONFIG, { maxBufferDelayMs: 10_000 }));
    session.send(input("Call me at 5."));
    session.send(input("30 tomorrow.", { end: true }));
    session.end();
    expect(await session.done).toBeUndefined();
    const whole = await ttsClient(running).synthesize({ text: "Call me at 5.30 tomorrow.", config: CONFIG });
    expectSameSpeech(session.audio(), whole.audio);
  }, 180_000);
});

describe("StreamingSynthesize on a full server", () => {
  let busy: RunningServer;

  beforeAll(async () => {
    busy = await startServer({ MAX_CONCURRENT_REQUESTS: "1", MAX_QUEUE_SIZE: "0" });
  }, 120_000);

  afterAll(async () => {
    await busy?.app.close();
  });

  it("ends only the utterance whose sentence finds no room, with RESOURCE_EXHAUSTED; the stream's next utterance speaks", async () => {
    const client = ttsClient(busy, "gRPC");
    const long = client.synthesize({ text: proseOfLength(3000), config: { ...CONFIG, useCache: false } });
    await waitUntil(() => busy.app.admission.stats().running === 1, "the long synthesis holds the one slot");
    const session = new Session((requests) => client.streamingSynthesize(requests));
    session.send(configMessage());
    session.send(input("No room for this.", { contextId: "first", end: true }));
    await session.until("the first utterance's end", () => session.events("first").some((e) => e.case === "utteranceEnd"));
    const end = session.events("first").find((e) => e.case === "utteranceEnd")!.value;
    expect(end).toMatchObject({ contextId: "first", cancelled: false, error: { code: "RESOURCE_EXHAUSTED" } });
    expect(end.error!.message).toMatch(/MAX_CONCURRENT_REQUESTS/);
    await long;
    session.send(input("Now there is room.", { contextId: "second", end: true }));
    session.end();
    expect(await session.done).toBeUndefined();
    const second = session.events("second").find((e) => e.case === "utteranceEnd")!.value;
    expect(second.cancelled).toBe(false);
    expect(second.error).toBeUndefined();
    expect(session.audio("second").length).toBeGreaterThan(0);
  }, 180_000);

  it("a sentence synthesized ahead while the one before held the only slot is synthesized again in its turn, and spoken", async () => {
    const client = ttsClient(busy, "gRPC");
    const { admission } = busy.app;
    await untilIdle(busy);
    const rejectedBefore = admission.stats().rejected;
    const first = "The first sentence keeps the only slot for a while, with a clause, another clause, and a few more words.";
    const session = new Session((requests) => client.streamingSynthesize(requests));
    // A probable end waits 1 s here: each sentence is taken when the next text comes.
    session.send(configMessage(CONFIG, { maxBufferDelayMs: 10_000 }));
    session.send(input(first));
    await waitUntil(() => admission.stats().running === 1, "the first sentence is synthesized ahead");
    // Its end is now certain; the second sentence is synthesized ahead while the first holds the slot: refused.
    session.send(input(" Then the second."));
    await waitUntil(() => admission.stats().rejected > rejectedBefore, "the second sentence's synthesis ahead is refused");
    session.send(input("", { end: true }));
    session.end();
    expect(await session.done).toBeUndefined();
    const end = session.events().find((e) => e.case === "utteranceEnd")!.value;
    expect(end.error).toBeUndefined();
    expect(end.summary?.sentenceCount).toBe(2);
    const whole = await client.synthesize({ text: `${first} Then the second.`, config: CONFIG });
    expectSameSpeech(session.audio(), whole.audio);
  }, 180_000);
});

describe("StreamingSynthesize with SSML documents", () => {
  const SSML_CONFIG: Config = { ...CONFIG, enableWordTimestamps: true, sentenceSilence: 0.2 };
  const DOCUMENT =
    '<speak><s>Turn <mark name="left"/>left at the <sub alias="doctor">Dr.</sub> sign.</s><break time="300ms"/>' +
    '<mark name="then"/><s><prosody pitch="+2st">Then stop</prosody> &amp; wait.</s><mark name="end"/></speak>';

  async function unarySsml(ssml: string) {
    const response = await ttsClient(running).synthesize({ ssml, config: SSML_CONFIG });
    return { ...response, samples: new Int16Array(response.audio.slice().buffer) };
  }

  it("speaks a document with the samples, words and marks Synthesize gives it", async () => {
    const session = connectSession("gRPC");
    session.send(configMessage(SSML_CONFIG));
    session.send(documentInput(DOCUMENT, { end: true }));
    session.end();
    expect(await session.done).toBeUndefined();
    const unary = await unarySsml(DOCUMENT);
    expect(unary.timepoints.map((t) => t.markName)).toEqual(["left", "then", "end"]);
    expectSameSpeech(session.audio(), unary.samples);
    expect(session.words()).toEqual(unary.words);
    expect(session.timepoints()).toEqual(unary.timepoints);
    const end = session.events().find((e) => e.case === "utteranceEnd")!.value;
    expect(end.error).toBeUndefined();
    expect(end.summary!.durationSeconds).toBeCloseTo(unary.durationSeconds, 6);
  }, 180_000);

  it("speaks text, then a document, then text in one utterance: each piece's unary audio with sentence silence between", async () => {
    const before = "Here is the plan. First,";
    const after = " That is all.";
    const session = connectSession("Connect");
    session.send(configMessage(SSML_CONFIG, { maxBufferDelayMs: 10_000 }));
    await sendTokens(session, before, 5);
    session.send(documentInput(DOCUMENT));
    await sendTokens(session, after, 5);
    session.send(input("", { end: true }));
    session.end();
    expect(await session.done).toBeUndefined();

    // The buffered text is spoken before the document (its sentence and the fragment "First,").
    const pieces = [await unaryPcm("Here is the plan. First,", SSML_CONFIG), (await unarySsml(DOCUMENT)).samples];
    pieces.push(await unaryPcm("That is all.", SSML_CONFIG));
    const silence = new Int16Array(0.2 * VOICE_RATE);
    const expected = Buffer.concat([pieces[0]!, silence, pieces[1]!, silence, pieces[2]!].map((p) => Buffer.from(p.buffer)));
    expectSameSpeech(session.audio(), expected);

    // Marks: where the document alone puts them, after the text and silence before it.
    const documentStart = (pieces[0]!.length + silence.length) / VOICE_RATE;
    const unary = await unarySsml(DOCUMENT);
    const timepoints = session.timepoints();
    expect(timepoints.map((t) => t.markName)).toEqual(["left", "then", "end"]);
    for (const [i, point] of timepoints.entries()) expect(point.seconds).toBeCloseTo(unary.timepoints[i]!.seconds + documentStart, 9);

    // Words index everything sent on the context id, documents included, in code points.
    const sent = Array.from(before + DOCUMENT + after);
    const words = session.words();
    for (const word of words) expect(sent.slice(word.textStart, word.textEnd).join("")).toBe(word.word);
    expect(words.map((w) => w.word)).toEqual(
      ["Here", "is", "the", "plan", "First"].concat(
        unary.words.map((w) => w.word),
        ["That", "is", "all"],
      ),
    );
    const documentWords = words.slice(5, 5 + unary.words.length);
    for (const [i, word] of documentWords.entries()) {
      expect(word.textStart).toBe(unary.words[i]!.textStart + Array.from(before).length);
      expect(word.startSeconds).toBeCloseTo(unary.words[i]!.startSeconds + documentStart, 9);
    }
    // Sentence indexes run on through the utterance: 2 before, the document's, then the last.
    for (const [i, word] of documentWords.entries()) expect(word.sentenceIndex).toBe(2 + unary.words[i]!.sentenceIndex);
    expect(words.at(-1)!.sentenceIndex).toBe(3 + unary.words.at(-1)!.sentenceIndex);
  }, 180_000);

  it("applies the config's custom pronunciations to the text and the documents alike", async () => {
    const config: Config = {
      ...CONFIG,
      enableWordTimestamps: true,
      customPronunciations: [{ phrase: "TTS", pronunciation: { case: "alias", value: "text to speech" } }],
    };
    const session = connectSession("gRPC");
    session.send(configMessage(config));
    session.send(input("I like TTS."));
    session.send(documentInput("<speak>TTS is <mark name='fun'/>fun.</speak>", { end: true }));
    session.end();
    expect(await session.done).toBeUndefined();
    const text = await ttsClient(running).synthesize({ text: "I like TTS.", config });
    const document = await ttsClient(running).synthesize({ ssml: "<speak>TTS is <mark name='fun'/>fun.</speak>", config });
    const plainText = await ttsClient(running).synthesize({ text: "I like TTS.", config: CONFIG });
    // The alias changes the audio, so the comparison shows it was applied on the stream.
    expect(Buffer.from(text.audio).equals(Buffer.from(plainText.audio))).toBe(false);
    expectSameSpeech(session.audio(), Buffer.concat([text.audio, document.audio]));
    // "TTS", said as "text to speech", is one word where it is written.
    const sent = Array.from("I like TTS.<speak>TTS is <mark name='fun'/>fun.</speak>");
    const tts = session.words().filter((w) => w.word === "TTS");
    expect(tts.map((w) => [w.textStart, w.textEnd])).toEqual([
      [7, 10],
      [18, 21],
    ]);
    for (const word of session.words()) expect(sent.slice(word.textStart, word.textEnd).join("")).toBe(word.word);
  }, 180_000);

  it("a document of only a break and a mark is its silence and its mark", async () => {
    const session = connectSession("gRPC");
    session.send(configMessage());
    session.send(input("Wait."));
    session.send(documentInput('<speak><break time="500ms"/><mark name="go"/></speak>'));
    session.send(input(" Go now.", { end: true }));
    session.end();
    expect(await session.done).toBeUndefined();
    const before = await unaryPcm("Wait.");
    const pause = new Int16Array(0.5 * VOICE_RATE);
    const expected = Buffer.concat([before, pause, await unaryPcm("Go now.")].map((p) => Buffer.from(p.buffer)));
    expectSameSpeech(session.audio(), expected);
    expect(session.timepoints()).toMatchObject([{ markName: "go", seconds: (before.length + pause.length) / VOICE_RATE }]);
  }, 180_000);

  it("a malformed document ends only its utterance, with INVALID_ARGUMENT at its line and column; the next utterance speaks", async () => {
    const session = connectSession("gRPC");
    session.send(configMessage());
    session.send(input("These words come first.", { contextId: "bad" }));
    session.send(documentInput("<speak>Hello\n<emphasis>there</speak>", { contextId: "bad" }));
    session.send(input("Another utterance speaks.", { contextId: "good", end: true }));
    session.end();
    expect(await session.done).toBeUndefined();
    const bad = session.events("bad").find((e) => e.case === "utteranceEnd")!.value;
    expect(bad).toMatchObject({ contextId: "bad", cancelled: false, error: { code: "INVALID_ARGUMENT" } });
    expect(bad.error!.message).toMatch(/^input\.ssml: line 2, column \d+: /);
    // What was sent before the document is spoken.
    expectSameSpeech(session.audio("bad"), await unaryPcm("These words come first."));
    const good = session.events("good").find((e) => e.case === "utteranceEnd")!.value;
    expect(good.error).toBeUndefined();
    expectSameSpeech(session.audio("good"), await unaryPcm("Another utterance speaks."));
  }, 180_000);
});

describe("StreamingSynthesize refuses protocol mistakes with a status naming the rule", () => {
  async function refusal(messages: StreamingSynthesizeRequest[]): Promise<ConnectError> {
    const session = connectSession("gRPC");
    for (const message of messages) session.send(message);
    session.end();
    const error = await session.done;
    if (!error) throw new Error("the stream ended without an error");
    return error;
  }

  it("text before config", async () => {
    const error = await refusal([input("Hello.")]);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toMatch(/^config: the first message of a stream must carry config/);
  });

  it("config twice", async () => {
    const error = await refusal([configMessage(), configMessage()]);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("config: sent twice; only the first message of a stream may carry it");
  });

  it("cancel of a context that was never opened", async () => {
    const error = await refusal([configMessage(), input("Hi", { contextId: "a" }), cancel("b")]);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toMatch(/^cancel.context_id: "b" names no utterance of this stream/);
  });

  it("a text piece longer than MAX_TEXT_LENGTH", async () => {
    const error = await refusal([configMessage(), input("a".repeat(running.config.maxTextLength + 1))]);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe(
      `input.text: ${running.config.maxTextLength + 1} characters is too long; allowed 1 to ${running.config.maxTextLength} (MAX_TEXT_LENGTH)`,
    );
  });

  it("an input with both text and ssml", async () => {
    const both = create(StreamingSynthesizeRequestSchema, {
      request: { case: "input", value: { text: "Hi.", ssml: "<speak>Hi.</speak>" } },
    });
    const error = await refusal([configMessage(), both]);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("input.ssml: set text or ssml, not both");
  });

  it("settings out of range", async () => {
    const error = await refusal([configMessage(CONFIG, { maxBufferDelayMs: 5 })]);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("config.max_buffer_delay_ms: 5 is out of range; allowed 20 to 10000");
    const speed = await refusal([configMessage({ speed: 3 })]);
    expect(speed.rawMessage).toBe("config.speed: 3 is out of range; allowed 0.5 to 2.0");
  });

  it("a stream without input past STREAMING_IDLE_TIMEOUT_SECONDS ends with DEADLINE_EXCEEDED; another stream goes on", async () => {
    const idle = connectSession("gRPC");
    idle.send(configMessage());
    const busy = connectSession("gRPC");
    busy.send(configMessage());
    busy.send(input("Still here."));
    // Empty text keeps a stream open.
    const keepAlive = setInterval(() => busy.send(input("")), 300);
    const error = await idle.done;
    clearInterval(keepAlive);
    expect(error?.code).toBe(Code.DeadlineExceeded);
    expect(error?.rawMessage).toMatch(/no input for 2 s \(STREAMING_IDLE_TIMEOUT_SECONDS\)/);
    busy.send(input(" Yes.", { end: true }));
    busy.end();
    expect(await busy.done).toBeUndefined();
    expect(busy.audio().length).toBeGreaterThan(0);
  }, 60_000);
});
