/**
 * Decides how a voice runs, once per model file version, in one inference worker: split
 * into an encoder, a flow and a decoder (voice-split.ts), or whole. The parts are cached beside the
 * voice as `<model>.<hash>.v<format>.encoder` / `.flow` / `.decoder` (not `.onnx`, so the voice catalog
 * does not take them for voices), keyed by the model's sha256 and the split's format and
 * written atomically, so the
 * workers, restarts and other replicas sharing MODELS_DIR load them without splitting again.
 *
 * The parts must earn their place: chained, with windowed flow and decoding, they must give the
 * whole model's samples on a self-check sentence at noise 0. A voice that does not split,
 * or whose parts fail the check, runs whole; the reason goes back to the engine to log.
 * The check costs a load and a run of the whole model (it doubled a voice's load time
 * here), so a pass is recorded beside the parts (`.checked`, with the onnxruntime version
 * and the decode windows it held for) and not repeated while those stay the same.
 *
 * Splitting and checking run in a child process of their own (voice-graph-process.ts), which
 * exits when done: the parsed protobuf, the whole model's session and its arena are given
 * back to the system with it. Done in an inference worker, they stayed in its heap and
 * onnxruntime's freed memory for as long as the process ran: a service that had just split
 * its voice served at 595 MB resident, one that found the parts cached at 407 MB.
 */
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { access, readFile, rename, rm, writeFile } from "node:fs/promises";
import * as ort from "onnxruntime-node";
import { DECODE_WINDOWS, type InferenceOptions, type VoiceGraph, VoiceSession } from "./inference.js";
import { planSpeech } from "./plan.js";
import type { PiperVoiceConfig } from "./voice-config.js";
import { SPLIT_FORMAT, splitVoice } from "./voice-split.js";

/** Long enough (about 400 frames) that windowed decoding crosses two window boundaries. */
export const SELF_CHECK_TEXT = "The quick brown fox jumps over the lazy dog, and then it rests for a while in the warm shade.";

/** Largest difference the parts may make, in steps of 16-bit PCM after Piper's peak normalization. */
const SELF_CHECK_LSB = 1;

export interface PreparedVoice {
  graph: VoiceGraph;
  /** Why the voice runs whole. */
  wholeBecause?: string;
}

export function partFiles(
  modelFile: string,
  modelHash: string,
): { encoderFile: string; flowFile: string; decoderFile: string; checkFile: string } {
  const base = `${modelFile}.${modelHash.slice(0, 16)}.v${SPLIT_FORMAT}`;
  return { encoderFile: `${base}.encoder`, flowFile: `${base}.flow`, decoderFile: `${base}.decoder`, checkFile: `${base}.checked` };
}

export async function prepareVoice(
  modelFile: string,
  modelHash: string,
  config: PiperVoiceConfig,
  options: InferenceOptions,
): Promise<PreparedVoice> {
  const { encoderFile, flowFile, decoderFile, checkFile } = partFiles(modelFile, modelHash);
  const graph: VoiceGraph = { kind: "split", encoderFile, flowFile, decoderFile };
  const verdict = `${JSON.stringify({ onnxruntime: ort.env.versions.common, windows: options.windows ?? DECODE_WINDOWS, text: SELF_CHECK_TEXT })}\n`;
  const cached = await Promise.all([access(encoderFile), access(flowFile), access(decoderFile)]).then(
    () => true,
    () => false,
  );
  if (cached && (await readFile(checkFile, "utf8").catch(() => undefined)) === verdict) return { graph };
  return inChildProcess({ modelFile, modelHash, config, options, cached, verdict });
}

/** What the split-and-check process is given. */
export interface SplitAndCheck {
  modelFile: string;
  modelHash: string;
  config: PiperVoiceConfig;
  options: InferenceOptions;
  /** The parts exist beside the voice (only their check is missing or out of date). */
  cached: boolean;
  /** The `.checked` file's content once the parts pass. */
  verdict: string;
}

function inChildProcess(job: SplitAndCheck): Promise<PreparedVoice> {
  const url = new URL(`./voice-graph-process${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);
  const child = fork(fileURLToPath(url), {
    // The TypeScript sources (npm start, vitest) run with tsx, as the inference workers do.
    execArgv: url.pathname.endsWith(".ts") ? ["--import", import.meta.resolve("tsx")] : [],
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve) => {
    let prepared: PreparedVoice | undefined;
    child.on("message", (message: PreparedVoice) => (prepared = message));
    const failed = (why: string): void =>
      resolve({ graph: { kind: "whole", modelFile: job.modelFile }, wholeBecause: `the split and self-check process ${why}` });
    child.on("error", (error) => failed(`did not run: ${error.message}`));
    child.on("exit", (code, signal) => (prepared ? resolve(prepared) : failed(`ended without an answer (${signal ?? `code ${code}`})`)));
    child.send(job);
  });
}

/** Splits the voice (unless its parts are cached) and checks the parts against the whole model. */
export async function splitAndCheck({ modelFile, modelHash, config, options, cached, verdict }: SplitAndCheck): Promise<PreparedVoice> {
  const whole: VoiceGraph = { kind: "whole", modelFile };
  const { encoderFile, flowFile, decoderFile, checkFile } = partFiles(modelFile, modelHash);
  const graph: VoiceGraph = { kind: "split", encoderFile, flowFile, decoderFile };
  let ids: number[];
  let expected: Float32Array;
  try {
    ids = planSpeech(SELF_CHECK_TEXT, config).sentences[0]!.ids;
    expected = await speakAtNoiseZero(whole, ids, config, options);
  } catch {
    // Nothing to compare with: loading the voice in every worker reports why it cannot speak.
    return { graph: whole };
  }
  if (!cached) {
    const split = splitVoice(await readFile(modelFile));
    if ("reason" in split) return { graph: whole, wholeBecause: `the graph does not split: ${split.reason}` };
    try {
      await writeAtomically(encoderFile, split.encoder);
      await writeAtomically(flowFile, split.flow);
      await writeAtomically(decoderFile, split.decoder);
    } catch (error) {
      return { graph: whole, wholeBecause: `the parts cannot be written beside the voice: ${(error as Error).message}` };
    }
  }
  let actual: Float32Array;
  try {
    actual = await speakAtNoiseZero(graph, ids, config, options);
  } catch (error) {
    return { graph: whole, wholeBecause: `the parts do not run: ${(error as Error).message}` };
  }
  const problem = difference(actual, expected);
  if (problem !== undefined) return { graph: whole, wholeBecause: problem };
  // Unrecorded, the pass is only checked again at the next load.
  await writeAtomically(checkFile, verdict).catch(() => undefined);
  return { graph };
}

async function speakAtNoiseZero(
  graph: VoiceGraph,
  ids: number[],
  config: PiperVoiceConfig,
  options: InferenceOptions,
): Promise<Float32Array> {
  const session = await VoiceSession.load(graph, config, options);
  try {
    const windows: Float32Array[] = [];
    for await (const window of session.speak(ids, { noiseScale: 0, lengthScale: config.lengthScale, noiseW: 0, durationScale: 1 }, 0)) {
      windows.push(window.samples);
    }
    const samples = new Float32Array(windows.reduce((n, w) => n + w.length, 0));
    let offset = 0;
    for (const window of windows) {
      samples.set(window, offset);
      offset += window.length;
    }
    return samples;
  } finally {
    await session.release();
  }
}

/** Undefined when the parts speak as the whole model does; else how they differ. */
function difference(actual: Float32Array, expected: Float32Array): string | undefined {
  if (actual.length !== expected.length)
    return `the parts give ${actual.length} samples on the self-check sentence, the whole model ${expected.length}`;
  let peak = 0;
  let largest = 0;
  for (let i = 0; i < expected.length; i++) {
    peak = Math.max(peak, Math.abs(expected[i]!));
    largest = Math.max(largest, Math.abs(expected[i]! - actual[i]!));
  }
  // Piper scales each sentence to its peak, so that is what one 16-bit step is relative to.
  const lsb = peak > 0 ? (largest / peak) * 32767 : largest;
  if (!(lsb <= SELF_CHECK_LSB))
    return `the parts differ from the whole model by ${lsb.toFixed(2)} LSB on the self-check sentence (at most ${SELF_CHECK_LSB} allowed)`;
  return undefined;
}

/** Readers see the whole file or none: written beside the target, then renamed onto it. */
async function writeAtomically(file: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = `${file}.${randomUUID()}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
