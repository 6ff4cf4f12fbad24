/**
 * How a voice comes to run split or whole. A voice loads split with its parts cached beside
 * it (keyed by its hash, no temporary file left over); a voice whose graph has no decoder
 * cut (here: a copy of the real voice with `dec.conv_pre.weight` renamed) or no flow cut
 * (its `flow.*` weights renamed), and a voice whose
 * cached parts are wrong (here: the decoder's first bias nudged) fail the split or the
 * self-check, log why once, and still speak Piper's audio through the whole model.
 */
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelProtoSchema, TensorProtoSchema } from "../../gen/onnx/onnx_pb.js";
import { floatToPcm16 } from "../../src/audio/pcm.js";
import { Engine, type VoiceModel } from "../../src/engine/index.js";
import { DECODE_WINDOWS } from "../../src/engine/inference.js";
import { partFiles, prepareVoice } from "../../src/engine/voice-graph.js";
import { splitVoice } from "../../src/engine/voice-split.js";
import { VoiceCatalog } from "../../src/voices/index.js";
import { DEFAULT_CONFIG, DEFAULT_MODEL } from "../support/voice.js";

const golden = JSON.parse(await readFile("test/golden/audio.json", "utf8")) as {
  items: { file: string; sentences: { ids: number[] }[] }[];
};
const hello = golden.items.find((item) => item.file === "audio/1.wav")!;
// Longer than the decoder's first window, as "Hello world." is not.
const long = golden.items.find((item) => item.file === "audio/9.wav")!;
const helloPcm = (await readFile("test/golden/audio/1.wav")).subarray(44);

let dir: string;
const logLines: Record<string, unknown>[] = [];
const logger = pino({ level: "info" }, { write: (line: string) => logLines.push(JSON.parse(line) as Record<string, unknown>) });
let engine: Engine;
let catalog: VoiceCatalog;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tts-voice-graph-"));
  const original = await readFile(DEFAULT_MODEL);

  // The real voice, as is.
  await copyFile(DEFAULT_MODEL, join(dir, "split.onnx"));
  await copyFile(DEFAULT_CONFIG, join(dir, "split.onnx.json"));

  // The same graph with the decoder's first weight under another name: no cut to find.
  const renamed = fromBinary(ModelProtoSchema, original);
  for (const tensor of renamed.graph!.initializer) if (tensor.name === "dec.conv_pre.weight") tensor.name = "decoder_input_weight";
  for (const node of renamed.graph!.node) node.input = node.input.map((n) => (n === "dec.conv_pre.weight" ? "decoder_input_weight" : n));
  await writeFile(join(dir, "uncut.onnx"), toBinary(ModelProtoSchema, renamed));
  await copyFile(DEFAULT_CONFIG, join(dir, "uncut.onnx.json"));

  // The same graph with the flow's weights under other names: no flow cut to find.
  const flowless = fromBinary(ModelProtoSchema, original);
  const unflow = (name: string) => (name.startsWith("flow.") ? `coupling.${name.slice(5)}` : name);
  for (const tensor of flowless.graph!.initializer) tensor.name = unflow(tensor.name);
  for (const node of flowless.graph!.node) node.input = node.input.map(unflow);
  await writeFile(join(dir, "flowless.onnx"), toBinary(ModelProtoSchema, flowless));
  await copyFile(DEFAULT_CONFIG, join(dir, "flowless.onnx.json"));

  // The real voice again, but its cached decoder part is not the voice's (a bias nudged).
  await copyFile(DEFAULT_MODEL, join(dir, "stale.onnx"));
  await copyFile(DEFAULT_CONFIG, join(dir, "stale.onnx.json"));

  catalog = new VoiceCatalog(dir, logger);
  const stale = await catalog.voice("stale");
  const split = splitVoice(original);
  if ("reason" in split) throw new Error(split.reason);
  const decoder = fromBinary(ModelProtoSchema, split.decoder);
  const bias = decoder.graph!.initializer.find((t) => t.name === "dec.conv_pre.bias")!;
  const values = new Float32Array(new Uint8Array(bias.rawData).buffer);
  for (let i = 0; i < values.length; i++) values[i] = values[i]! + 0.05;
  decoder.graph!.initializer[decoder.graph!.initializer.indexOf(bias)] = create(TensorProtoSchema, {
    ...bias,
    rawData: new Uint8Array(values.buffer),
  });
  const files = partFiles(stale.modelFile, stale.modelHash);
  await writeFile(files.encoderFile, split.encoder);
  await writeFile(files.flowFile, split.flow);
  await writeFile(files.decoderFile, toBinary(ModelProtoSchema, decoder));

  engine = new Engine({ threads: 1, intraOpThreads: 1, maxLoadedVoices: 4, logger });
}, 120_000);

afterAll(async () => {
  await engine?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A golden item ("Hello world." unless told) from Piper's ids at noise 0, as 16-bit PCM, and how many windows it took. */
async function speakHello(model: VoiceModel, item = hello): Promise<{ pcm: Buffer; windows: number }> {
  const plan = {
    sentences: item.sentences.map((s, i) => ({ sentenceIndex: i, phonemes: [], ids: s.ids, words: [] })),
    sentenceCount: 1,
    missingPhonemes: [],
  };
  const scales = { noiseScale: 0, lengthScale: model.config.lengthScale, noiseW: 0, durationScale: 1 };
  const parts: Float32Array[] = [];
  for await (const window of engine.synthesize(model, plan, { scales, speakerId: 0 }, new AbortController().signal)) {
    parts.push(window.samples);
  }
  const samples = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    samples.set(part, offset);
    offset += part.length;
  }
  const pcm = floatToPcm16(samples);
  return { pcm: Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), windows: parts.length };
}

function largestDifference(ours: Buffer, expected: Buffer): number {
  expect(ours.length).toBe(expected.length);
  let largest = 0;
  for (let i = 0; i < ours.length; i += 2) largest = Math.max(largest, Math.abs(ours.readInt16LE(i) - expected.readInt16LE(i)));
  return largest;
}

const wholeLogs = (voice: string) =>
  logLines.filter((line) => line.voice === voice && line.msg === "voice runs as one model, without windowed decoding");

describe("split or whole", () => {
  it("the real voice loads split: its parts and its passed self-check are recorded beside it by hash, written whole, and it decodes in windows", async () => {
    const model = engine.model(await catalog.voice("split"));
    const spoken = await speakHello(model);
    expect(largestDifference(spoken.pcm, helloPcm)).toBeLessThanOrEqual(1);
    expect((await speakHello(model, long)).windows).toBeGreaterThan(1);
    expect(wholeLogs("split")).toEqual([]);
    const names = (await readdir(dir)).filter((name) => name.startsWith("split."));
    const files = partFiles(model.modelFile, model.modelHash);
    expect(names.sort()).toEqual(
      [
        "split.onnx",
        "split.onnx.json",
        ...[files.encoderFile, files.flowFile, files.decoderFile, files.checkFile].map((f) => f.slice(dir.length + 1)),
      ].sort(),
    );
    expect(JSON.parse(await readFile(files.checkFile, "utf8"))).toMatchObject({ windows: DECODE_WINDOWS });
    // The voice catalog does not take the parts for voices.
    await catalog.scan();
    expect(catalog.list().map((v) => v.id)).toEqual(["flowless", "split", "stale", "uncut"]);
  });

  it("a graph without dec.conv_pre.weight runs whole, says why once, and speaks Piper's audio", async () => {
    const model = engine.model(await catalog.voice("uncut"));
    const spoken = await speakHello(model);
    expect(spoken.windows).toBe(1);
    expect(largestDifference(spoken.pcm, helloPcm)).toBeLessThanOrEqual(1);
    await speakHello(model);
    const logged = wholeLogs("uncut");
    expect(logged).toHaveLength(1);
    expect(logged[0]!.reason).toMatch(/does not split: 0 nodes read the initializer dec\.conv_pre\.weight/);
    expect(logged[0]!.level).toBe(40);
  });

  it("a graph without flow.* weights runs whole, says why once, and speaks Piper's audio", async () => {
    const model = engine.model(await catalog.voice("flowless"));
    const spoken = await speakHello(model);
    expect(spoken.windows).toBe(1);
    expect(largestDifference(spoken.pcm, helloPcm)).toBeLessThanOrEqual(1);
    const logged = wholeLogs("flowless");
    expect(logged).toHaveLength(1);
    expect(logged[0]!.reason).toMatch(/does not split: no node the latent frames depend on reads a flow weight \(flow\.\*\)/);
  });

  it("cached parts that do not speak as the whole model fail the self-check: the voice runs whole, says why, and speaks Piper's audio", async () => {
    const model = engine.model(await catalog.voice("stale"));
    const spoken = await speakHello(model);
    expect(spoken.windows).toBe(1);
    expect(largestDifference(spoken.pcm, helloPcm)).toBeLessThanOrEqual(1);
    const logged = wholeLogs("stale");
    expect(logged).toHaveLength(1);
    expect(logged[0]!.reason).toMatch(/the parts differ from the whole model by [\d.]+ LSB on the self-check sentence/);
    // No pass recorded: the next load checks again.
    const { checkFile } = partFiles(model.modelFile, model.modelHash);
    await expect(readFile(checkFile)).rejects.toThrow(/ENOENT/);
  });

  it("the self-check catches windows whose context is too small for the decoder (a pass recorded for other windows does not count)", async () => {
    const voice = await catalog.voice("split");
    const prepared = await prepareVoice(voice.modelFile, voice.modelHash, voice.config, {
      intraOpThreads: 1,
      windows: { ...DECODE_WINDOWS, first: 32, later: 64, context: 4 },
    });
    expect(prepared.graph.kind).toBe("whole");
    expect(prepared.wholeBecause).toMatch(/differ from the whole model by \d+\.\d\d LSB/);
  });
});
