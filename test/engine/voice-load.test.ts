/**
 * Broken voices fail loading with a message naming the file and the problem, and the
 * registry keeps serving its good voices.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planSpeech, synthesizePieces } from "../../src/engine/engine.js";
import { NothingToSpeakError, VoiceLoadError, VoiceNotFoundError } from "../../src/engine/errors.js";
import { InferencePool } from "../../src/engine/inference-pool.js";
import { VoiceRegistry } from "../../src/voices/registry.js";
import { DEFAULT_CONFIG, DEFAULT_MODEL, DEFAULT_VOICE } from "../support/voice.js";

let dir: string;
let pool: InferencePool;
let registry: VoiceRegistry;

async function addVoice(id: string, model: Buffer | string, config: unknown): Promise<void> {
  if (typeof model === "string") await copyFile(model, join(dir, `${id}.onnx`));
  else await writeFile(join(dir, `${id}.onnx`), model);
  await writeFile(join(dir, `${id}.onnx.json`), JSON.stringify(config));
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
  pool = new InferencePool({ threads: 1, intraOpThreads: 1, maxLoadedVoices: 2 });
  registry = new VoiceRegistry(dir, pool, 2, pino({ level: "silent" }));
  await registry.scan();
});

afterAll(async () => {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
});

describe("voice loading", () => {
  it("lists voices whose config parses, and leaves out a model without config", () => {
    expect(registry.list().map((v) => v.id)).toEqual([DEFAULT_VOICE, "garbage", "truncated", "unknown-espeak", "wrong-speakers"]);
  });

  it.each([
    ["garbage", /garbage\.onnx: onnxruntime cannot load the model/],
    ["truncated", /truncated\.onnx: onnxruntime cannot load the model/],
    ["wrong-speakers", /wrong-speakers\.onnx: the config says num_speakers=4 but the model has no a speaker input/],
    ["unknown-espeak", /unknown-espeak\.onnx\.json: espeak\.voice "xx-nowhere" cannot phonemize/],
  ])("%s fails with a message naming the file and the problem", async (id, message) => {
    const error = await registry.get(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VoiceLoadError);
    expect((error as Error).message).toMatch(message);
    expect(registry.isLoaded(id)).toBe(false);
  });

  it("keeps serving the good voice after the broken ones failed", async () => {
    const voice = await registry.get(DEFAULT_VOICE);
    const plan = planSpeech("Still speaking.", voice.config);
    const scales = { noiseScale: 0, lengthScale: 1, noiseW: 0 };
    const pieces = [];
    for await (const piece of synthesizePieces(pool, voice, plan, { scales, speakerId: 0 })) pieces.push(piece);
    expect(pieces).toHaveLength(1);
    expect(pieces[0]!.samples.length).toBeGreaterThan(0.5 * 22050);
  });

  it("names the installed voices when asked for an unknown one", async () => {
    const error = await registry.get("en_GB-nobody-low").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VoiceNotFoundError);
    expect((error as Error).message).toContain(DEFAULT_VOICE);
  });

  it("refuses voice ids that could name a path outside MODELS_DIR", async () => {
    for (const id of ["../etc/passwd", "/abs", "a/b", ".hidden"]) {
      await expect(registry.get(id)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
  });

  it("reports text with nothing speakable as an invalid argument, not empty audio", async () => {
    const voice = await registry.get(DEFAULT_VOICE);
    for (const text of ["...", "  \t ", "—", "« »"]) {
      expect(() => planSpeech(text, voice.config)).toThrow(NothingToSpeakError);
    }
  });
});
