/**
 * Broken voices fail loading with a message naming the file and the problem, and the
 * engine keeps serving its good voices. The catalog makes cache keys without loading.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine, planSpeech } from "../../src/engine/index.js";
import { InvalidArgumentError, NothingToSpeakError, VoiceLoadError, VoiceNotFoundError } from "../../src/errors/index.js";
import { VoiceCatalog } from "../../src/voices/index.js";
import { DEFAULT_CONFIG, DEFAULT_MODEL, DEFAULT_VOICE } from "../support/voice.js";

let dir: string;
let engine: Engine;
let catalog: VoiceCatalog;
const never = new AbortController().signal;

async function addVoice(id: string, model: Buffer | string, config: unknown): Promise<void> {
  if (typeof model === "string") await copyFile(model, join(dir, `${id}.onnx`));
  else await writeFile(join(dir, `${id}.onnx`), model);
  await writeFile(join(dir, `${id}.onnx.json`), JSON.stringify(config));
}

async function speak(id: string, text: string): Promise<number> {
  const model = engine.model(await catalog.voice(id));
  const plan = await engine.plan(model, text);
  let samples = 0;
  const scales = { noiseScale: 0, lengthScale: 1, noiseW: 0, durationScale: 1 };
  for await (const piece of engine.synthesize(model, plan, { scales, speakerId: 0 }, never)) samples += piece.samples.length;
  return samples;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tts-voices-"));
  const config = JSON.parse(await readFile(DEFAULT_CONFIG, "utf8"));
  const model = await readFile(DEFAULT_MODEL);
  await addVoice(DEFAULT_VOICE, DEFAULT_MODEL, config);
  await addVoice("garbage", Buffer.from("this is not an onnx model".repeat(100)), config);
  await addVoice("truncated", model.subarray(0, 1_000_000), config);
  await addVoice("wrong-speakers", DEFAULT_MODEL, { ...config, num_speakers: 4, speaker_id_map: { a: 0, b: 1, c: 2, d: 3 } });
  await addVoice("unknown-espeak", DEFAULT_MODEL, { ...config, espeak: { voice: "xx-nowhere" } });
  await writeFile(join(dir, "no-config.onnx"), "x");
  const logger = pino({ level: "silent" });
  engine = new Engine({ threads: 2, intraOpThreads: 1, maxLoadedVoices: 2, logger });
  catalog = new VoiceCatalog(dir, logger);
  await catalog.scan();
});

afterAll(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

describe("voice loading", () => {
  it("lists voices whose config parses, and leaves out a model without config", () => {
    expect(catalog.list().map((v) => v.id)).toEqual([DEFAULT_VOICE, "garbage", "truncated", "unknown-espeak", "wrong-speakers"]);
  });

  it("hashes a voice's model without loading it", async () => {
    const voice = await catalog.voice("garbage");
    expect(voice.modelHash).toMatch(/^[0-9a-f]{64}$/);
    expect(engine.model(voice).modelHash).toBe(voice.modelHash);
    expect(engine.isLoaded("garbage")).toBe(false);
  });

  it.each([
    ["garbage", /garbage\.onnx: onnxruntime cannot load the model/],
    ["truncated", /truncated\.onnx: onnxruntime cannot load the model/],
    ["wrong-speakers", /wrong-speakers\.onnx: the config says num_speakers=4 but the model has no a speaker input/],
    ["unknown-espeak", /unknown-espeak\.onnx\.json: espeak\.voice "xx-nowhere" cannot phonemize/],
  ])("%s fails with a message naming the file and the problem", async (id, message) => {
    const error = await engine.load(await catalog.voice(id)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VoiceLoadError);
    expect((error as Error).message).toMatch(message);
    expect(engine.isLoaded(id)).toBe(false);
    expect(engine.canSpeak(id)).toBe(false);
    expect(engine.status().degraded).toContainEqual(expect.objectContaining({ voice: id, serving: false }));
  });

  it("keeps serving the good voice after the broken ones failed", async () => {
    expect(await speak(DEFAULT_VOICE, "Still speaking.")).toBeGreaterThan(0.5 * 22050);
    expect(engine.canSpeak(DEFAULT_VOICE)).toBe(true);
  });

  it("names the installed voices when asked for an unknown one", async () => {
    const error = await catalog.voice("en_GB-nobody-low").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VoiceNotFoundError);
    expect((error as Error).message).toContain(DEFAULT_VOICE);
  });

  it("refuses voice ids that could name a path outside MODELS_DIR", async () => {
    for (const id of ["../etc/passwd", "/abs", "a/b", ".hidden"]) {
      const error = await catalog.voice(id).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ field: "config.voice" });
    }
  });

  it("reports text with nothing speakable as an invalid argument, not empty audio", async () => {
    const voice = await catalog.voice(DEFAULT_VOICE);
    for (const text of ["...", "  \t ", "—", "« »"]) {
      expect(() => planSpeech(text, voice.config)).toThrow(NothingToSpeakError);
      await expect(engine.plan(engine.model(voice), text)).rejects.toThrow(NothingToSpeakError);
    }
  });

  it("keeps the old sessions speaking when a loaded voice's file is replaced by a broken one, and takes a good new file", async () => {
    const id = "replaced";
    const config = JSON.parse(await readFile(DEFAULT_CONFIG, "utf8"));
    await addVoice(id, DEFAULT_MODEL, config);
    await catalog.scan();
    await engine.load(await catalog.voice(id));
    const loadedHash = engine.model(await catalog.voice(id)).modelHash;

    await writeFile(join(dir, `${id}.onnx`), (await readFile(DEFAULT_MODEL)).subarray(0, 2_000_000));
    const broken = await catalog.voice(id);
    expect(broken.modelHash).not.toBe(loadedHash);
    // The old model answers while the new file is tried in the background.
    expect(engine.model(broken).modelHash).toBe(loadedHash);
    await expect.poll(() => engine.status().degraded.find((p) => p.voice === id), { timeout: 60_000 }).toMatchObject({ serving: true });
    const problem = engine.status().degraded.find((p) => p.voice === id)!.problem;
    expect(problem).toMatch(/replaced\.onnx: onnxruntime cannot load the model/);
    expect(engine.canSpeak(id)).toBe(true);
    expect(engine.model(await catalog.voice(id)).modelHash).toBe(loadedHash);
    expect(await speak(id, "Old sessions still speak.")).toBeGreaterThan(0.5 * 22050);

    // A good file again (the same model, a new mtime and content hash as the original): it takes over.
    await copyFile(DEFAULT_MODEL, join(dir, `${id}.onnx`));
    const fixed = await catalog.voice(id);
    engine.model(fixed);
    await expect.poll(() => engine.status().degraded.some((p) => p.voice === id), { timeout: 60_000 }).toBe(false);
    expect(await speak(id, "Speaking again.")).toBeGreaterThan(0.5 * 22050);
  });
});
