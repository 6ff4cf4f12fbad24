// A table of bad requests, each with its expected status code, over gRPC, gRPC-Web and
// Connect (Synthesize), against a real in-process server; the server keeps serving.

import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, type SynthesisConfigSchema } from "../../gen/aetheros/tts/v1/tts_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { startServer, type RunningServer } from "../server/running-server.js";
import { PROTOCOLS, ttsOver, type ProtocolName } from "../server/support.js";
import { record, table } from "./report.js";
import { outcomeOf, type Outcome } from "./support.js";

const MAX_TEXT_LENGTH = 200;
const VOICE = "en_US-joe-medium";
type Config = MessageInitShape<typeof SynthesisConfigSchema>;

const CASES: { name: string; text?: string; config?: Config; code: Code }[] = [
  { name: "empty text", text: "", code: Code.InvalidArgument },
  { name: "whitespace-only text", text: " \t\n  \u00a0", code: Code.InvalidArgument },
  { name: "text over MAX_TEXT_LENGTH", text: "a".repeat(MAX_TEXT_LENGTH + 1), code: Code.InvalidArgument },
  { name: "text far over MAX_TEXT_LENGTH (emoji)", text: "😀".repeat(MAX_TEXT_LENGTH * 2), code: Code.InvalidArgument },
  { name: "nothing speakable: ...", text: "...", code: Code.InvalidArgument },
  { name: "nothing speakable: — —", text: "— —", code: Code.InvalidArgument },
  { name: "nothing speakable: control characters", text: "\u0001\u0002\u0003", code: Code.InvalidArgument },
  { name: "unknown voice", config: { voice: "xx_XX-nobody-low" }, code: Code.NotFound },
  { name: "voice id ../x", config: { voice: "../x" }, code: Code.InvalidArgument },
  { name: "voice id /etc/passwd", config: { voice: "/etc/passwd" }, code: Code.InvalidArgument },
  { name: "voice id of 200 characters", config: { voice: "v".repeat(200) }, code: Code.InvalidArgument },
  { name: "unknown speaker name", config: { speaker: "bob" }, code: Code.NotFound },
  { name: "speaker id 1 on a single-speaker voice", config: { speaker: "1" }, code: Code.NotFound },
  { name: "speed 0.49", config: { speed: 0.49 }, code: Code.InvalidArgument },
  { name: "speed 2.01", config: { speed: 2.01 }, code: Code.InvalidArgument },
  { name: "speed NaN", config: { speed: Number.NaN }, code: Code.InvalidArgument },
  { name: "speed Infinity", config: { speed: Number.POSITIVE_INFINITY }, code: Code.InvalidArgument },
  { name: "speed -1", config: { speed: -1 }, code: Code.InvalidArgument },
  { name: "pitch 0.1", config: { pitch: 0.1 }, code: Code.InvalidArgument },
  { name: "pitch 3", config: { pitch: 3 }, code: Code.InvalidArgument },
  { name: "volume -1", config: { volume: -1 }, code: Code.InvalidArgument },
  { name: "volume 5", config: { volume: 5 }, code: Code.InvalidArgument },
  { name: "noise_scale 3", config: { noiseScale: 3 }, code: Code.InvalidArgument },
  { name: "noise_w -0.5", config: { noiseW: -0.5 }, code: Code.InvalidArgument },
  { name: "sentence_silence 6", config: { sentenceSilence: 6 }, code: Code.InvalidArgument },
  { name: "sample rate 11025", config: { sampleRate: 11025 }, code: Code.InvalidArgument },
  { name: "sample rate 7", config: { sampleRate: 7 }, code: Code.InvalidArgument },
  { name: "unknown encoding 99", config: { encoding: 99 as AudioEncoding }, code: Code.InvalidArgument },
  { name: "language no voice speaks", config: { language: "de" }, code: Code.NotFound },
  { name: "language contradicting the voice", config: { voice: VOICE, language: "de-DE" }, code: Code.InvalidArgument },
  { name: "two bad fields at once", config: { speed: 9, pitch: 9 }, code: Code.InvalidArgument },
];

let running: RunningServer;
const results: { name: string; protocol: ProtocolName; expected: Outcome; got: Outcome }[] = [];

beforeAll(async () => {
  running = await startServer({ MAX_TEXT_LENGTH: String(MAX_TEXT_LENGTH) });
});

afterAll(async () => {
  const wrong = results.filter((result) => result.got !== result.expected);
  const rows = CASES.map((c) => [
    c.name,
    Code[c.code],
    ...PROTOCOLS.map((protocol) => results.find((r) => r.name === c.name && r.protocol === protocol)?.got ?? "–"),
  ]);
  record("2-bad-input", {
    order: 2,
    title: "Bad input",
    passed: wrong.length === 0 && results.length === CASES.length * PROTOCOLS.length,
    body: [
      `${CASES.length} bad Synthesize requests over each of gRPC, gRPC-Web and Connect (${results.length} calls), in-process server,`,
      `MAX_TEXT_LENGTH=${MAX_TEXT_LENGTH}; each must end with its expected status. Wrong statuses: ${wrong.length}.`,
      "",
      table(["Request", "Expected", ...PROTOCOLS], rows),
    ].join("\n"),
    callsMade: results.length,
    callsLost: results.filter((result) => result.got === "lost").length,
  });
  await running.app.close();
});

describe("bad requests", () => {
  it("the table has at least 30 distinct cases", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  describe.each(PROTOCOLS)("over %s", (protocol) => {
    it.each(CASES)("$name", async ({ name, text = "Hello there.", config = {}, code }) => {
      const client = ttsOver(running, protocol);
      const { outcome } = await outcomeOf(() => client.synthesize({ text, config: { useCache: false, ...config } }, { timeoutMs: 60_000 }));
      results.push({ name, protocol, expected: Code[code] as Outcome, got: outcome });
      expect(outcome).toBe(Code[code]);
    });
  });

  it.each(PROTOCOLS)("a normal request over %s still succeeds afterwards", async (protocol) => {
    const response = await ttsOver(running, protocol).synthesize({
      text: "Still serving.",
      config: { encoding: AudioEncoding.PCM, useCache: false },
    });
    expect(response.durationSeconds).toBeGreaterThan(0.3);
  });
});
