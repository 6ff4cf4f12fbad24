// SSML and pronunciation lexicons end to end, against the real server and voice: each tag's
// effect measured in the audio (break lengths, rate, pitch, <phoneme> and <sub> against the
// text they stand for, a voice switch), marks placed at the next word's start, word
// timestamps indexing the document, streams equal to unary, lexicon files and inline
// entries changing what is said, and bad documents refused with the line and column.

import { copyFile, link, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { expectSameSpeech } from "../audio/support.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { callError, startServer, type RunningServer } from "../server/running-server.js";
import { collectStream, type Config, f0Track, median, NO_NOISE, ttsClient, VOICE, VOICE_RATE, voiced } from "./support.js";

const PCM: Config = { encoding: AudioEncoding.PCM, ...NO_NOISE };
const LEXICON = `<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" alphabet="ipa" xml:lang="en-US" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon">
  <lexeme><grapheme>AetherOS</grapheme><phoneme>ˈiːθɚ ˌoʊˈɛs</phoneme></lexeme>
  <lexeme><grapheme>TTS</grapheme><alias>text to speech</alias></lexeme>
</lexicon>
`;

let running: RunningServer;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tts-ssml-"));
  const models = join(dir, "models");
  const lexicons = join(dir, "lexicons");
  await Promise.all([mkdir(models), mkdir(lexicons)]);
  // A second voice id for <voice>: the default voice's files under another name.
  for (const id of [VOICE, "en_US-copy-medium"]) {
    await link(join("models", `${VOICE}.onnx`), join(models, `${id}.onnx`));
    await copyFile(join("models", `${VOICE}.onnx.json`), join(models, `${id}.onnx.json`));
  }
  await writeFile(join(lexicons, "product.pls"), LEXICON);
  await writeFile(join(lexicons, "broken.pls"), "<lexicon version='1.0'><lexeme>");
  running = await startServer({ MODELS_DIR: models, LEXICONS_DIR: lexicons });
}, 120_000);

afterAll(async () => {
  await running?.app.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function speak(request: { text?: string; ssml?: string; config?: Config }) {
  const config = { ...PCM, ...request.config } as Config;
  const response = await ttsClient(running).synthesize({ text: request.text ?? "", ssml: request.ssml ?? "", config });
  const bytes = response.audio;
  return { response, samples: new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
}

const same = (a: Int16Array, b: Int16Array) => a.length === b.length && Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

describe("SSML tags, measured in the audio", () => {
  it("<break> inserts exactly the silence asked for", async () => {
    const short = await speak({ ssml: '<speak>One.<break time="200ms"/>Two.</speak>' });
    const long = await speak({ ssml: '<speak>One.<break time="1.2s"/>Two.</speak>' });
    expect(long.samples.length - short.samples.length).toBe(VOICE_RATE);
    const words = (await speak({ ssml: '<speak>One.<break time="1.2s"/>Two.</speak>', config: { enableWordTimestamps: true } })).response
      .words;
    expect(words[1]!.startSeconds - words[0]!.endSeconds).toBeGreaterThanOrEqual(1.2);
  });

  it("a document of only breaks is their silence; one of only marks has nothing to speak", async () => {
    const pause = await speak({ ssml: '<speak><break time="1500ms"/><mark name="here"/><break time="500ms"/></speak>' });
    expect(pause.samples.length).toBe(2 * VOICE_RATE);
    expect(pause.samples.every((sample) => sample === 0)).toBe(true);
    expect(pause.response.timepoints.map((t) => [t.markName, t.seconds])).toEqual([["here", 1.5]]);
    const error = await callError(ttsClient(running).synthesize({ ssml: '<speak><mark name="alone"/></speak>', config: PCM }));
    expect(error.code).toBe(Code.InvalidArgument);
  });

  it("a document whose words are only punctuation has nothing to speak, as such a text has, unary and streamed", async () => {
    const ssml = "<speak>... <s>— —</s></speak>";
    const received: string[] = [];
    const streamed = async () => {
      for await (const message of ttsClient(running).synthesizeStream({ ssml, config: PCM })) received.push(message.event.case ?? "");
    };
    for (const call of [ttsClient(running).synthesize({ ssml, config: PCM }), streamed()]) {
      const error = await callError(call);
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toBe(`ssml: nothing speakable in ${JSON.stringify(ssml)} (it produced no phonemes)`);
    }
    // Refused before the stream's start message, as a text is.
    expect(received).toEqual([]);
    // Pronunciations send a text down the same path.
    const withAlias = await callError(
      ttsClient(running).synthesize({
        text: "...",
        config: { ...PCM, customPronunciations: [{ phrase: "TTS", pronunciation: { case: "alias", value: "text to speech" } }] },
      }),
    );
    expect(withAlias.rawMessage).toBe('text: nothing speakable in "..." (it produced no phonemes)');
  });

  // The model's durations stretched by the asked ratio (not through length_scale, which
  // moved 80% only 1.11x), exactly as config.speed stretches them.
  it("<prosody rate> changes the speech's duration by the asked ratio, as config.speed does", async () => {
    const text = "The meeting starts in ten minutes.";
    const normal = (await speak({ text })).samples.length;
    for (const [rate, speed] of [
      ["50%", 0.5],
      ["80%", 0.8],
      ["150%", 1.5],
      ["x-fast", 2],
    ] as const) {
      const slow = await speak({ ssml: `<speak><prosody rate="${rate}">${text}</prosody></speak>` });
      const bySpeed = await speak({ text, config: { speed } });
      expect(same(slow.samples, bySpeed.samples), rate).toBe(true);
      expect(Math.abs((slow.samples.length / normal) * speed - 1), rate).toBeLessThan(0.05);
    }
  });

  it("<prosody pitch='+4st'> raises F0 by four semitones", async () => {
    const text = "A steady voice reads this sentence aloud.";
    const base = median(voiced(f0Track((await speak({ text })).samples, VOICE_RATE)));
    const raised = median(
      voiced(f0Track((await speak({ ssml: `<speak><prosody pitch="+4st">${text}</prosody></speak>` })).samples, VOICE_RATE)),
    );
    expect(12 * Math.log2(raised / base)).toBeCloseTo(4, 0);
    expect(Math.abs(12 * Math.log2(raised / base) - 4)).toBeLessThan(0.5);
  });

  it("<phoneme> says the IPA as [[ ]] does, <sub> says its alias", async () => {
    const phoneme = await speak({ ssml: '<speak><phoneme alphabet="ipa" ph="həlˈoʊ">hello</phoneme></speak>' });
    expect(same(phoneme.samples, (await speak({ text: "[[ həlˈoʊ ]]" })).samples)).toBe(true);
    const sub = await speak({ ssml: '<speak><sub alias="World Wide Web">WWW</sub></speak>', config: { enableWordTimestamps: true } });
    expect(same(sub.samples, (await speak({ text: "World Wide Web" })).samples)).toBe(true);
    // One word, spanning the element (the alias maps to all of it), where it was three.
    expect(sub.response.words.map((w) => w.word)).toEqual(['<sub alias="World Wide Web">WWW</sub>']);
  });

  it("<say-as interpret-as='characters'> spells the word out", async () => {
    const word = await speak({ text: "NASA" });
    const spelled = await speak({ ssml: '<speak><say-as interpret-as="characters">NASA</say-as></speak>' });
    expect(spelled.samples.length).toBeGreaterThan(1.5 * word.samples.length);
  });

  it("<voice> switches voice mid-document; an unknown voice is NOT_FOUND naming it", async () => {
    const { response } = await speak({ ssml: '<speak>Hello. <voice name="en_US-copy-medium">Goodbye.</voice></speak>' });
    expect(response.durationSeconds).toBeGreaterThan(0.5);
    const health = await ttsClient(running).health({});
    expect(health.loadedVoices).toContain("en_US-copy-medium");
    const error = await callError(ttsClient(running).synthesize({ ssml: '<speak><voice name="nobody">Hi.</voice></speak>' }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.rawMessage).toMatch(/^ssml: <voice name="nobody">: no voice named "nobody"/);
  });
});

describe("marks and word timestamps index the document", () => {
  const ssml = '<speak>Turn <mark name="left"/>left at the <emphasis>second</emphasis> light.<mark name="end"/></speak>';

  it("a mark's time is the next word's start; one after the last word is the end of the audio", async () => {
    const { response } = await speak({ ssml, config: { enableWordTimestamps: true } });
    const left = response.words.find((w) => w.word === "left")!;
    expect(response.timepoints.map((t) => t.markName)).toEqual(["left", "end"]);
    expect(response.timepoints[0]!.seconds).toBeCloseTo(left.startSeconds, 6);
    expect(response.timepoints[1]!.seconds).toBeCloseTo(response.durationSeconds, 6);
    for (const word of response.words) expect(Array.from(ssml).slice(word.textStart, word.textEnd).join("")).toBe(word.word);
    expect(response.words.map((w) => w.word)).toEqual(["Turn", "left", "at", "the", "second", "light"]);
  });

  it("a stream of the document is the unary audio, with the marks in its timestamps messages", async () => {
    const unary = await speak({ ssml });
    const stream = await collectStream(ttsClient(running).synthesizeStream({ ssml, config: PCM }));
    // A stream speaks each run window by window (to 1 LSB of the unary call's windows).
    expectSameSpeech(stream.audio, unary.samples);
    const messages = [];
    for await (const message of ttsClient(running).synthesizeStream({ ssml, config: PCM })) messages.push(message);
    const marks = messages.flatMap((m) => (m.event.case === "timestamps" ? m.event.value.timepoints.map((t) => t.markName) : []));
    expect(marks).toEqual(["left", "end"]);
  });

  it("a stream speaks a run with marks inside it window by window, each mark with the sentence of the word after it", async () => {
    const inner =
      '<speak>First we walk north along the river for a while. Then <mark name="turn"/>turn left at the old mill, and stop<mark name="stop"/>.</speak>';
    const unary = await speak({ ssml: inner });
    const messages = [];
    for await (const message of ttsClient(running).synthesizeStream({ ssml: inner, config: PCM })) messages.push(message);
    const chunks = messages.flatMap((m) => (m.event.case === "chunk" ? [m.event.value.audio] : []));
    expectSameSpeech(Buffer.concat(chunks), unary.samples);
    // The first window (16 frames: 4096 samples) is sent on its own, not the run once it is all decoded.
    expect(chunks[0]!.length).toBe(16 * 256 * 2);
    const timepoints = messages.flatMap(({ event }) => {
      if (event.case !== "timestamps") return [];
      const { sentenceIndex } = event.value;
      return event.value.timepoints.map(({ markName, seconds }) => ({ markName, seconds, sentenceIndex }));
    });
    expect(timepoints.map((t) => [t.markName, t.sentenceIndex])).toEqual([
      ["turn", 1],
      ["stop", 1],
    ]);
    // The times are the unary call's: "turn" at the word after it, "stop" at the end of the run's audio.
    expect(unary.response.timepoints.map((t) => t.markName)).toEqual(["turn", "stop"]);
    for (const [index, timepoint] of timepoints.entries())
      expect(timepoint.seconds).toBeCloseTo(unary.response.timepoints[index]!.seconds, 6);
    expect(timepoints[1]!.seconds).toBeCloseTo(unary.response.durationSeconds, 6);
  });
});

describe("pronunciation lexicons", () => {
  it("a lexicon file's IPA and alias change what is said, and words keep the text's spans", async () => {
    const text = "AetherOS speaks TTS.";
    const { response, samples } = await speak({ text, config: { lexicons: ["product"], enableWordTimestamps: true } });
    const spoken = await speak({ text: "[[ ˈiːθɚ ˌoʊˈɛs ]] speaks text to speech.", config: { enableWordTimestamps: true } });
    expect(same(samples, spoken.samples)).toBe(true);
    expect(response.words.map((w) => [w.word, w.textStart, w.textEnd])).toEqual([
      ["AetherOS", 0, 8],
      ["speaks", 9, 15],
      ["TTS", 16, 19],
    ]);
    // "TTS", said as three words, is one word from the start of "text" to the end of "speech".
    const [, , first, , last] = spoken.response.words;
    expect([first!.word, last!.word]).toEqual(["text", "speech"]);
    expect(response.words[2]).toMatchObject({ startSeconds: first!.startSeconds, endSeconds: last!.endSeconds });
    expect(same((await speak({ text })).samples, samples)).toBe(false);
  });

  it("inline entries apply, before any lexicon", async () => {
    const { samples } = await speak({
      text: "Read the TTS docs.",
      config: { lexicons: ["product"], customPronunciations: [{ phrase: "TTS", pronunciation: { case: "alias", value: "speech" } }] },
    });
    expect(same(samples, (await speak({ text: "Read the speech docs." })).samples)).toBe(true);
  });

  it("a stream of text with a lexicon and inline entries says what the unary call says, with its words", async () => {
    const text = "AetherOS reads the TTS docs.";
    const config = {
      ...PCM,
      lexicons: ["product"],
      customPronunciations: [{ phrase: "docs", pronunciation: { case: "alias", value: "documents" } }],
      enableWordTimestamps: true,
    } as Config;
    const unary = await speak({ text, config });
    const chunks: Uint8Array[] = [];
    const words: string[] = [];
    for await (const message of ttsClient(running).synthesizeStream({ text, config })) {
      if (message.event.case === "chunk") chunks.push(message.event.value.audio);
      if (message.event.case === "timestamps") words.push(...message.event.value.words.map((w) => w.word));
    }
    expectSameSpeech(Buffer.concat(chunks), unary.samples);
    expect(same(unary.samples, (await speak({ text })).samples)).toBe(false);
    expect(words).toEqual(unary.response.words.map((w) => w.word));
    expect(words[0]).toBe("AetherOS");
    expect(words.at(-1)).toBe("docs");
  });

  it("a broken lexicon is refused by name with FAILED_PRECONDITION; an unknown one is INVALID_ARGUMENT", async () => {
    const broken = await callError(ttsClient(running).synthesize({ text: "Hi.", config: { lexicons: ["broken"] } }));
    expect(broken.code).toBe(Code.FailedPrecondition);
    expect(broken.rawMessage).toMatch(/broken/);
    const unknown = await callError(ttsClient(running).synthesize({ text: "Hi.", config: { lexicons: ["missing"] } }));
    expect(unknown.code).toBe(Code.InvalidArgument);
    expect(unknown.rawMessage).toMatch(/^config.lexicons: /);
  });
});

describe("bad SSML is refused with INVALID_ARGUMENT naming where", () => {
  it.each([
    ["an unclosed tag", "<speak>Hello <prosody rate='80%'>there</speak>"],
    ["a DOCTYPE (billion laughs)", '<!DOCTYPE speak [<!ENTITY a "aaaa">]><speak>&a;</speak>'],
    ["a break longer than 10 s", '<speak><break time="30s"/></speak>'],
    ["text outside <speak>", "Hello"],
    ["1,000 nested elements", `<speak>${"<s>".repeat(1000)}deep${"</s>".repeat(1000)}</speak>`],
  ])("%s", async (_name, ssml) => {
    const error = await callError(ttsClient(running).synthesize({ ssml, config: PCM }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toMatch(/^ssml: /);
  });

  it("text and ssml together", async () => {
    const error = await callError(ttsClient(running).synthesize({ text: "Hi.", ssml: "<speak>Hi.</speak>" }));
    expect(error.rawMessage).toBe("text: set text or ssml, not both");
  });
});
