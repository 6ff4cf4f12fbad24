// Bad requests, table-driven, over gRPC and Connect (binary), for Synthesize and
// SynthesizeStream: the exact status code, and a message that names the field, the
// value and the allowed range. The server keeps serving afterwards and logs none of
// them as a server fault.

import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, type Normalization } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { startServer, type RunningServer } from "../server/running-server.js";
import { ttsClient, VOICE, type TransportName, type Config } from "./support.js";

const MAX_TEXT_LENGTH = 200;
const RATES = "8000, 16000, 22050, 24000, 44100, 48000";

interface BadCase {
  name: string;
  text?: string;
  config?: Config;
  code: Code;
  /** Pieces the message must contain: the field, the value, what is allowed. */
  mentions: string[];
}

const range = (field: string, value: string, min: string, max: string): string[] => [`${field}: ${value} `, `allowed ${min} to ${max}`];

const CASES: BadCase[] = [
  { name: "empty text", text: "", code: Code.InvalidArgument, mentions: ["text:", "empty"] },
  { name: "whitespace-only text", text: " \t\n  \u00a0", code: Code.InvalidArgument, mentions: ["text:", "whitespace"] },
  {
    name: "text over MAX_TEXT_LENGTH",
    text: "a".repeat(MAX_TEXT_LENGTH + 1),
    code: Code.InvalidArgument,
    mentions: ["text:", `${MAX_TEXT_LENGTH + 1} characters`, `allowed 1 to ${MAX_TEXT_LENGTH}`, "MAX_TEXT_LENGTH"],
  },
  { name: "text with nothing speakable: ...", text: "...", code: Code.InvalidArgument, mentions: ["text:", '"..."', "nothing speakable"] },
  { name: "text with nothing speakable: — —", text: "— —", code: Code.InvalidArgument, mentions: ["text:", '"— —"', "nothing speakable"] },
  {
    name: "unknown voice",
    config: { voice: "xx_XX-nobody-low" },
    code: Code.NotFound,
    mentions: ["config.voice:", '"xx_XX-nobody-low"', `installed voices: ${VOICE}`],
  },
  {
    name: "voice id with a path: ../x",
    config: { voice: "../x" },
    code: Code.InvalidArgument,
    mentions: ["config.voice:", '"../x"', "not a voice id"],
  },
  {
    name: "voice id with a path: /etc/passwd",
    config: { voice: "/etc/passwd" },
    code: Code.InvalidArgument,
    mentions: ["config.voice:", '"/etc/passwd"', "not a voice id"],
  },
  {
    name: "unknown speaker name",
    config: { speaker: "bob" },
    code: Code.NotFound,
    mentions: ["config.speaker:", '"bob"', VOICE, "single speaker"],
  },
  {
    name: "speaker id beyond a single-speaker voice",
    config: { speaker: "1" },
    code: Code.NotFound,
    mentions: ["config.speaker:", '"1"', "single speaker"],
  },
  { name: "speed 0.49", config: { speed: 0.49 }, code: Code.InvalidArgument, mentions: range("config.speed", "0.49", "0.5", "2.0") },
  { name: "speed 2.01", config: { speed: 2.01 }, code: Code.InvalidArgument, mentions: range("config.speed", "2.01", "0.5", "2.0") },
  { name: "speed NaN", config: { speed: Number.NaN }, code: Code.InvalidArgument, mentions: range("config.speed", "NaN", "0.5", "2.0") },
  {
    name: "speed Infinity",
    config: { speed: Number.POSITIVE_INFINITY },
    code: Code.InvalidArgument,
    mentions: range("config.speed", "Infinity", "0.5", "2.0"),
  },
  { name: "pitch 0.1", config: { pitch: 0.1 }, code: Code.InvalidArgument, mentions: range("config.pitch", "0.1", "0.5", "2.0") },
  { name: "pitch 3", config: { pitch: 3 }, code: Code.InvalidArgument, mentions: range("config.pitch", "3", "0.5", "2.0") },
  { name: "volume -1", config: { volume: -1 }, code: Code.InvalidArgument, mentions: range("config.volume", "-1", "0.0", "4.0") },
  { name: "volume 5", config: { volume: 5 }, code: Code.InvalidArgument, mentions: range("config.volume", "5", "0.0", "4.0") },
  {
    name: "noise_scale 3",
    config: { noiseScale: 3 },
    code: Code.InvalidArgument,
    mentions: range("config.noise_scale", "3", "0.0", "2.0"),
  },
  { name: "noise_w -0.5", config: { noiseW: -0.5 }, code: Code.InvalidArgument, mentions: range("config.noise_w", "-0.5", "0.0", "2.0") },
  {
    name: "sentence_silence 6",
    config: { sentenceSilence: 6 },
    code: Code.InvalidArgument,
    mentions: range("config.sentence_silence", "6", "0.0", "5.0"),
  },
  {
    name: "sample rate 11025",
    config: { sampleRate: 11025 },
    code: Code.InvalidArgument,
    mentions: ["config.sample_rate: 11025 Hz", `allowed ${RATES}`],
  },
  {
    name: "sample rate 7",
    config: { sampleRate: 7 },
    code: Code.InvalidArgument,
    mentions: ["config.sample_rate: 7 Hz", `allowed ${RATES}`],
  },
  {
    name: "unknown encoding 99",
    config: { encoding: 99 as AudioEncoding },
    code: Code.InvalidArgument,
    mentions: [
      "config.encoding: 99",
      "allowed AUDIO_ENCODING_WAV, AUDIO_ENCODING_PCM, AUDIO_ENCODING_MP3, AUDIO_ENCODING_OGG_OPUS, AUDIO_ENCODING_FLAC",
    ],
  },
  {
    name: "unknown normalization 5",
    config: { normalization: 5 as Normalization },
    code: Code.InvalidArgument,
    mentions: ["config.normalization: 5", "allowed NORMALIZATION_UNSPECIFIED, NORMALIZATION_NONE, NORMALIZATION_SENTENCE_PEAK"],
  },
  {
    name: "language no voice speaks",
    config: { language: "de" },
    code: Code.NotFound,
    mentions: ["config.language:", '"de"', "installed languages: en-US"],
  },
  {
    name: "language contradicting the voice",
    config: { voice: VOICE, language: "de-DE" },
    code: Code.InvalidArgument,
    mentions: ["config.language:", '"de-DE"', VOICE, "en-US"],
  },
];

let running: RunningServer;
let logLinesBefore: number;
beforeAll(async () => {
  running = await startServer({ MAX_TEXT_LENGTH: String(MAX_TEXT_LENGTH) });
  logLinesBefore = running.logLines.length;
});
afterAll(() => running.app.close());

async function synthesizeError(via: TransportName, text: string, config: Config): Promise<ConnectError> {
  try {
    await ttsClient(running, via).synthesize({ text, config: { useCache: false, ...config } });
  } catch (err) {
    if (err instanceof ConnectError) return err;
    throw err;
  }
  throw new Error("Synthesize succeeded");
}

async function streamError(via: TransportName, text: string, config: Config): Promise<{ error: ConnectError; received: number }> {
  let received = 0;
  try {
    for await (const _message of ttsClient(running, via).synthesizeStream({ text, config: { useCache: false, ...config } })) received++;
  } catch (err) {
    if (err instanceof ConnectError) return { error: err, received };
    throw err;
  }
  throw new Error("SynthesizeStream succeeded");
}

describe("the table", () => {
  it("has at least 20 cases, every one with a field in its message", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });
});

describe.each(["gRPC", "Connect"] as const)("over %s", (via) => {
  describe.each(CASES)("$name", ({ text = "Hello there.", config = {}, code, mentions }) => {
    it(`Synthesize fails with ${Code[code]}`, async () => {
      const error = await synthesizeError(via, text, config);
      expect(Code[error.code]).toBe(Code[code]);
      for (const piece of mentions) expect(error.rawMessage).toContain(piece);
    });

    it(`SynthesizeStream fails with ${Code[code]} before sending anything`, async () => {
      const { error, received } = await streamError(via, text, config);
      expect(Code[error.code]).toBe(Code[code]);
      for (const piece of mentions) expect(error.rawMessage).toContain(piece);
      expect(received).toBe(0);
    });
  });
});

describe("after the table", () => {
  it.each(["gRPC", "Connect"] as const)("a normal request over %s still succeeds", async (via) => {
    const response = await ttsClient(running, via).synthesize({
      text: "Still serving.",
      config: { encoding: AudioEncoding.WAV, useCache: false },
    });
    expect(response.durationSeconds).toBeGreaterThan(0.3);
    expect(Buffer.from(response.audio.subarray(0, 4)).toString("latin1")).toBe("RIFF");
  });

  it("a text of exactly MAX_TEXT_LENGTH characters is accepted", async () => {
    const text = "Hello there. ".repeat(20).slice(0, MAX_TEXT_LENGTH);
    expect([...text].length).toBe(MAX_TEXT_LENGTH);
    const response = await ttsClient(running).synthesize({ text, config: { encoding: AudioEncoding.PCM, useCache: false } });
    expect(response.textLength).toBe(MAX_TEXT_LENGTH);
  });

  it("logged every refusal as the caller's error, none as a server fault", () => {
    const lines = running.logLines.slice(logLinesBefore).filter((line) => line.msg === "rpc");
    expect(lines.length).toBeGreaterThanOrEqual(4 * CASES.length);
    expect(lines.filter((line) => (line.level as number) >= 50)).toEqual([]);
    const codes = new Set(lines.map((line) => line.code));
    expect([...codes].sort()).toEqual(["invalid_argument", "not_found", "ok"]);
  });
});
