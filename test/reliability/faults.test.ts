// Faults against the entry point as a child process (running as nobody, so that file
// permissions bind): Redis killed and restarted mid-run, the cache directory made
// read-only, a second voice's model file replaced by garbage, and a client holding 500
// SynthesizeStreams it never reads. Calls keep being served throughout.

import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, constants, type ClientHttp2Session } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, SynthesizeStreamRequestSchema, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { RedisServer } from "../cache/redis-server.js";
import { record, REPO_ROOT, table } from "./report.js";
import { countBy, formatCounts, outcomeOf, rssMiB, runPool, startService, type Outcome, type Service } from "./support.js";

const NOBODY = 65534;
const DEFAULT_VOICE = "en_US-joe-medium";
const SPARE_VOICE = "en_US-spare-medium";
const STREAMS = 500;

let work: string;
let cacheDir: string;
let redis: RedisServer;
let service: Service;
let client: ReturnType<typeof createClient<typeof TtsService>>;
const rows: (string | number)[][] = [];
let made = 0;
let lost = 0;
let allHeld = true;

function tally(name: string, outcomes: Outcome[], held: boolean, note: string): void {
  made += outcomes.length;
  lost += outcomes.filter((o) => o === "lost").length;
  allHeld &&= held;
  rows.push([name, outcomes.length, formatCounts(countBy(outcomes)), held ? "yes" : "**no**", note]);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "tts-faults-"));
  chmodSync(work, 0o755);
  const models = join(work, "models");
  mkdirSync(models);
  // Copies readable by nobody (the checkout's models/ may not be).
  for (const voice of [DEFAULT_VOICE, SPARE_VOICE]) {
    for (const suffix of [".onnx", ".onnx.json"]) {
      copyFileSync(join(REPO_ROOT, "models", `${DEFAULT_VOICE}${suffix}`), join(models, `${voice}${suffix}`));
      chmodSync(join(models, `${voice}${suffix}`), 0o644);
    }
  }
  chownSync(join(models, `${SPARE_VOICE}.onnx`), NOBODY, NOBODY);
  cacheDir = join(work, "cache");
  mkdirSync(cacheDir);
  chownSync(cacheDir, NOBODY, NOBODY);
  redis = await RedisServer.start();
  service = await startService(
    { MAX_CONCURRENT_REQUESTS: "2", MODELS_DIR: models, CACHE_DIR: cacheDir, REDIS_URL: redis.url, HOME: work },
    { uid: NOBODY, gid: NOBODY },
  );
  client = createClient(TtsService, createGrpcTransport({ baseUrl: service.baseUrl }));
});

afterAll(async () => {
  record("5-faults", {
    order: 5,
    title: "Faults",
    passed: allHeld && rows.length === 4,
    body: [
      "The entry point as a child process running as nobody (so that chmod binds), MAX_CONCURRENT_REQUESTS=2,",
      `disk cache and a real redis-server. Faults survived: ${rows.filter((row) => row[3] === "yes").length} of 4.`,
      "",
      table(["Fault", "Calls", "Outcomes", "Held", "Notes"], rows),
    ].join("\n"),
    callsMade: made,
    callsLost: lost,
  });
  await service?.stop();
  await redis?.kill();
  execFileSync("chmod", ["-R", "u+w", work]);
  rmSync(work, { recursive: true, force: true });
});

const speak = (text: string, useCache = true, voice = "") =>
  outcomeOf(() => client.synthesize({ text, config: { encoding: AudioEncoding.PCM, useCache, voice } }, { timeoutMs: 60_000 }));

describe("faults", () => {
  it("Redis killed and restarted mid-run: calls keep succeeding", async () => {
    const outcomes: Outcome[] = [];
    let running = true;
    let n = 0;
    const load = runPool(4, 4, async (worker) => {
      while (running) {
        const i = n++;
        outcomes.push((await speak(i % 3 === 0 ? `Redis fault fresh text ${i}.` : `Redis fault phrase ${i % 5}.`)).outcome);
      }
      void worker;
    });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 4000));
    await redis.restart();
    await new Promise((resolve) => setTimeout(resolve, 4000));
    running = false;
    await load;
    const held = outcomes.length > 0 && outcomes.every((o) => o === "Ok");
    tally("Redis SIGKILLed for 4 s, then restarted", outcomes, held, "4 callers throughout, a third of them uncached texts");
    expect(formatCounts(countBy(outcomes.filter((o) => o !== "Ok")))).toBe("");
  });

  it("the cache directory made read-only: calls keep succeeding", async () => {
    execFileSync("chmod", ["-R", "0555", cacheDir]);
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 20; i++)
      outcomes.push((await speak(i % 2 ? `Read-only cache new text ${i}.` : `Redis fault phrase ${i % 5}.`)).outcome);
    execFileSync("chmod", ["-R", "u+w", cacheDir]);
    const held = outcomes.every((o) => o === "Ok");
    tally("CACHE_DIR chmod -R 0555", outcomes, held, "10 new texts (stores fail), 10 earlier phrases");
    expect(formatCounts(countBy(outcomes.filter((o) => o !== "Ok")))).toBe("");
  });

  it("a second voice's model replaced by garbage: FAILED_PRECONDITION naming the file; the default voice keeps serving", async () => {
    writeFileSync(join(work, "models", `${SPARE_VOICE}.onnx`), Buffer.from("this is not an onnx model ".repeat(1000)));
    const spare = await speak("Hello from the spare voice.", false, SPARE_VOICE);
    const spareAgain = await speak("Hello again from the spare voice.", false, SPARE_VOICE);
    const defaults = [
      await speak("The default voice still speaks.", false),
      await speak("The default voice still speaks twice.", false, DEFAULT_VOICE),
    ];
    const outcomes = [spare.outcome, spareAgain.outcome, ...defaults.map((d) => d.outcome)];
    const named = [spare, spareAgain].every((s) => s.error?.rawMessage.includes(`${SPARE_VOICE}.onnx`) === true);
    const held =
      spare.outcome === "FailedPrecondition" &&
      spareAgain.outcome === "FailedPrecondition" &&
      named &&
      defaults.every((d) => d.outcome === "Ok");
    tally(
      "Second voice's .onnx overwritten with garbage",
      outcomes,
      held,
      `message: ${JSON.stringify(spare.error?.rawMessage ?? "")}`.slice(0, 240),
    );
    expect(spare.outcome).toBe("FailedPrecondition");
    expect(spare.error?.rawMessage).toContain(`${SPARE_VOICE}.onnx`);
    expect(spareAgain.outcome).toBe("FailedPrecondition");
    expect(defaults.map((d) => d.outcome)).toEqual(["Ok", "Ok"]);
  });

  it(`a client holding ${STREAMS} SynthesizeStreams it never reads: other calls keep being served`, async () => {
    const text =
      "The morning train left the station a little after seven, carrying commuters toward the city. Rain had fallen through the night, and the fields beside the track shone under a pale sky.";
    // Fill the cache first so that the streams replay several hundred kilobytes each.
    for await (const _ of client.synthesizeStream({ text, config: { encoding: AudioEncoding.WAV } }, { timeoutMs: 120_000 })) void _;
    const message = Buffer.from(
      toBinary(SynthesizeStreamRequestSchema, create(SynthesizeStreamRequestSchema, { text, config: { encoding: AudioEncoding.WAV } })),
    );
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), message]);
    frame.writeUInt32BE(message.length, 1);
    const sessions: ClientHttp2Session[] = [];
    let answered = 0;
    const rssBefore = rssMiB(service.entry.child.pid!);
    for (let s = 0; s < STREAMS / 100; s++) {
      const session = connect(service.baseUrl);
      session.on("error", () => {});
      sessions.push(session);
      for (let i = 0; i < 100; i++) {
        const stream = session.request({
          [constants.HTTP2_HEADER_METHOD]: "POST",
          [constants.HTTP2_HEADER_PATH]: `/${TtsService.typeName}/SynthesizeStream`,
          "content-type": "application/grpc",
          te: "trailers",
        });
        stream.on("error", () => {});
        stream.once("response", () => answered++);
        stream.pause(); // never read: flow control stops the server's writes
        stream.end(frame);
      }
    }
    const deadline = Date.now() + 120_000;
    while (answered < STREAMS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 10; i++)
      outcomes.push((await speak(i % 2 ? `While streams stall, new text ${i}.` : "Redis fault phrase 1.")).outcome);
    const rssHeld = rssMiB(service.entry.child.pid!);
    for (const session of sessions) session.destroy();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    outcomes.push((await speak("After the stalled streams were closed.", false)).outcome);
    const held = answered === STREAMS && outcomes.every((o) => o === "Ok");
    tally(
      `${STREAMS} SynthesizeStreams never read (5 raw HTTP/2 connections)`,
      outcomes,
      held,
      `${answered} of ${STREAMS} got response headers; RSS ${rssBefore.toFixed(0)} → ${rssHeld.toFixed(0)} MiB while held; then closed`,
    );
    made += STREAMS;
    expect(answered).toBe(STREAMS);
    expect(formatCounts(countBy(outcomes.filter((o) => o !== "Ok")))).toBe("");
  });
});
