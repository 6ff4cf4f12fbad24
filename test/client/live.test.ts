// The client's live session (`tts.liveSession()`, one session object over two transports)
// against the real server with API keys on: the Node client over the bidi RPC (gRPC on
// HTTP/2), the browser client over the WebSocket route with the `ws` package as its
// WebSocket. Tokens sent with gaps are spoken with word timestamps that point into the text
// sent; flush cuts a sentence where it was sent; a cancel stops an utterance and the next one
// is spoken in full; both transports give the same audio and words for the same messages;
// a refusal reaches the caller as a ConnectError with the server's status.

import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  AudioEncoding,
  createTtsClient,
  type LiveAudio,
  type LiveEvent,
  type LiveSession,
  type LiveSessionOptions,
  type LiveWords,
} from "../../clients/node/src/index.js";
import { createTtsWebClient } from "../../clients/node/src/web.js";
import { startServer, type RunningServer } from "../server/running-server.js";
import { waitUntil } from "../server/support.js";
import { expectSameSpeech } from "../audio/support.js";
import { NO_NOISE, ttsClient, VOICE, VOICE_RATE } from "../synthesis/support.js";

const API_KEY = "live-client-key-6d2a9c41e0";
const CONFIG = { encoding: AudioEncoding.PCM, enableWordTimestamps: true, ...NO_NOISE };
const REPLY = "Sure, I can help with that. The next train leaves at seven fifteen! Shall I book a seat for you?";
const LONG_REPLY =
  "Here is the whole story, told slowly and at length so that it takes a while to speak. " +
  "It begins on a quiet morning by the river, where the fog has not yet lifted. " +
  "Nobody has noticed the small boat drifting toward the old stone bridge. " +
  "By noon the whole village is talking about it, and the mayor calls a meeting.";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tokensOf = (text: string) => text.match(/\s*\S+/g) ?? [];

let running: RunningServer;
beforeAll(async () => {
  running = await startServer({ API_KEYS: API_KEY });
});
afterAll(() => running.app.close());

const nodeClient = () => createTtsClient({ baseUrl: running.baseUrl, apiKey: API_KEY, defaultTimeoutMs: 1 });
const webClient = ({ withKey = true } = {}) =>
  createTtsWebClient({ baseUrl: running.baseUrl, ...(withKey ? { apiKey: API_KEY } : {}), webSocket: WebSocket });

type Config = NonNullable<LiveSessionOptions["config"]>;
const TRANSPORTS = [
  // defaultTimeoutMs 1: a live session has no deadline of its own.
  { name: "Node (gRPC bidi)", open: (config: Config = CONFIG) => nodeClient().liveSession({ config }) },
  { name: "web (WebSocket)", open: (config: Config = CONFIG) => webClient().liveSession({ config }) },
] as const;

/** Reads a session's events into `events` as they come; `done` settles when the iteration ends. */
function reader(session: LiveSession) {
  const events: LiveEvent[] = [];
  const done = (async () => {
    for await (const event of session) events.push(event);
  })();
  done.catch(() => undefined);
  return { events, done };
}

const audioOf = (events: LiveEvent[], contextId = "") =>
  Buffer.concat(events.filter((e): e is LiveAudio => e.type === "audio" && e.contextId === contextId).map((e) => e.audio));
const wordsOf = (events: LiveEvent[], contextId = "") =>
  events.filter((e): e is LiveWords => e.type === "words" && e.contextId === contextId).flatMap((e) => e.words);
const endOf = (events: LiveEvent[], contextId = "") => events.find((e) => e.type === "utteranceEnd" && e.contextId === contextId);

describe.each(TRANSPORTS)("the live session, $name", ({ open }) => {
  it("speaks tokens sent with gaps, with word timestamps that point into the text sent", async () => {
    const session = open();
    const { events, done } = reader(session);
    for (const [i, token] of tokensOf(REPLY).entries()) {
      session.send(token);
      await sleep(20 + ((i * 37) % 60));
    }
    session.close();
    await done;

    expect(events[0]).toMatchObject({ type: "start", encoding: AudioEncoding.PCM, sampleRate: VOICE_RATE, voice: VOICE });
    expect(events.at(-1)).toMatchObject({ type: "utteranceEnd", contextId: "", cancelled: false, sentenceCount: 3 });
    const chunks = events.filter((e): e is LiveAudio => e.type === "audio");
    const end = endOf(events)!;
    expect(end.type === "utteranceEnd" && [end.chunkCount, end.audioBytes]).toEqual([chunks.length, audioOf(events).length]);
    // PCM: each chunk's sampleOffset is the samples before it.
    let samples = 0;
    for (const chunk of chunks) {
      expect(chunk.sampleOffset).toBe(samples);
      samples += chunk.audio.length / 2;
    }
    // A sentence's words come before its first audio.
    for (const sentence of [0, 1, 2]) {
      const words = events.findIndex((e) => e.type === "words" && e.sentenceIndex === sentence);
      const audio = events.findIndex((e) => e.type === "audio" && e.sentenceIndex === sentence);
      expect(words).toBeGreaterThan(0);
      expect(words).toBeLessThan(audio);
    }

    const words = wordsOf(events);
    const text = Array.from(REPLY);
    expect(words.map((w) => w.word)).toEqual(REPLY.match(/[\p{L}\p{N}']+/gu));
    for (const word of words) expect(text.slice(word.textStart, word.textEnd).join("")).toBe(word.word);
    // In order in the audio, within it.
    for (let i = 1; i < words.length; i++) expect(words[i]!.startSeconds).toBeGreaterThanOrEqual(words[i - 1]!.endSeconds);
    expect(words.at(-1)!.endSeconds).toBeLessThanOrEqual(samples / VOICE_RATE);
  });

  it("sendSsml speaks a document between text, its marks offset by the audio before it", async () => {
    const ssml = '<speak>Turn <mark name="turn"/>left here.</speak>';
    const session = open();
    const { events, done } = reader(session);
    session.send("First this.");
    session.sendSsml(ssml);
    session.send(" Then that.");
    session.close();
    await done;

    const unary = createTtsClient({ baseUrl: running.baseUrl, apiKey: API_KEY });
    const [first, document, last] = await Promise.all([
      unary.synthesize({ text: "First this.", config: CONFIG }),
      unary.synthesize({ ssml, config: CONFIG }),
      unary.synthesize({ text: "Then that.", config: CONFIG }),
    ]);
    expectSameSpeech(audioOf(events), Buffer.concat([first.audio, document.audio, last.audio]));
    const timepoints = events.flatMap((e) => (e.type === "words" ? e.timepoints : []));
    expect(timepoints).toEqual([{ markName: "turn", seconds: document.timepoints[0]!.seconds + first.durationSeconds }]);
    const sent = Array.from(`First this.${ssml} Then that.`);
    const words = wordsOf(events);
    expect(words.map((w) => w.word)).toEqual(["First", "this", "Turn", "left", "here", "Then", "that"]);
    for (const word of words) expect(sent.slice(word.textStart, word.textEnd).join("")).toBe(word.word);
  });

  it("flush speaks what is buffered at once: a sentence ends where it was flushed", async () => {
    const session = open();
    const { events, done } = reader(session);
    session.send("Let me think");
    session.flush();
    // Nothing more is sent until the flushed text is heard.
    await waitUntil(() => events.some((e) => e.type === "audio"), "the flushed text is spoken");
    session.send(" about that moment.");
    session.close();
    await done;

    const words = wordsOf(events);
    expect(words.filter((w) => w.sentenceIndex === 0).map((w) => w.word)).toEqual(["Let", "me", "think"]);
    expect(words.filter((w) => w.sentenceIndex === 1).map((w) => w.word)).toEqual(["about", "that", "moment"]);
  });

  it("cancel stops an utterance mid-speech; the next utterance is spoken in full, as Synthesize speaks it", async () => {
    const session = open();
    const { events, done } = reader(session);
    session.send(LONG_REPLY, { contextId: "first" });
    await waitUntil(() => events.some((e) => e.type === "audio" && e.contextId === "first"), "the first utterance is heard");
    session.cancel("first");
    const next = "All right, never mind.";
    session.send(next, { contextId: "second" });
    session.close();
    await done;

    const firstEnd = events.findIndex((e) => e.type === "utteranceEnd" && e.contextId === "first");
    expect(events[firstEnd]).toMatchObject({ cancelled: true });
    expect(events.slice(firstEnd).some((e) => e.type === "audio" && e.contextId === "first")).toBe(false);
    expect((endOf(events, "first") as { sentenceCount: number }).sentenceCount).toBeLessThan(4);
    expect(endOf(events, "second")).toMatchObject({ cancelled: false, sentenceCount: 1 });
    expect(events.at(-1)).toMatchObject({ type: "utteranceEnd", contextId: "second" });

    const whole = await ttsClient(running).synthesize({ text: next, config: CONFIG }, { headers: { authorization: `Bearer ${API_KEY}` } });
    expectSameSpeech(audioOf(events, "second"), whole.audio);
  });

  it("cancel after close() stops the utterance still being spoken (the model is done, the listener interrupts)", async () => {
    const session = open();
    const { events, done } = reader(session);
    session.send(LONG_REPLY);
    session.close();
    await waitUntil(() => events.some((e) => e.type === "audio"), "the reply is heard");
    session.cancel();
    await done;
    expect(events.filter((e) => e.type === "utteranceEnd")).toEqual([expect.objectContaining({ contextId: "", cancelled: true })]);
    expect((endOf(events) as { sentenceCount: number }).sentenceCount).toBeLessThan(4);
    // Once every utterance has ended there is nothing left to stop.
    expect(() => session.cancel()).not.toThrow();
  });

  it("a refusal of the config fails the iteration with INVALID_ARGUMENT naming the field", async () => {
    const session = open({ speed: 9 });
    session.send("Hello.");
    session.close();
    const error = await reader(session).done.then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.rawMessage).toMatch(/speed/);
  });
});

it("the Node and web sessions give the same audio and words for the same messages", async () => {
  const results = [];
  for (const { open } of TRANSPORTS) {
    const session = open();
    const { events, done } = reader(session);
    for (const token of tokensOf(REPLY)) {
      session.send(token, { contextId: "a" });
      await sleep(10);
    }
    session.end("a");
    session.send("And one more thing", { contextId: "b" });
    session.flush("b");
    session.send(" before you go.");
    session.close();
    await done;
    results.push({ a: audioOf(events, "a"), b: audioOf(events, "b"), words: [wordsOf(events, "a"), wordsOf(events, "b")] });
  }
  const [node, web] = results;
  expect(node!.a.length).toBeGreaterThan(VOICE_RATE);
  expectSameSpeech(web!.a, node!.a);
  expectSameSpeech(web!.b, node!.b);
  expect(web!.words).toEqual(node!.words);
});

it("the web session without the API key fails with UNAVAILABLE saying why the socket closed", async () => {
  const session = webClient({ withKey: false }).liveSession({ config: CONFIG });
  session.send("Hello.");
  session.close();
  const error = await reader(session).done.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(error?.code).toBe(Code.Unavailable);
  expect(error?.rawMessage).toContain("401");
});
