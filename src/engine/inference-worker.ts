/**
 * Worker-thread side of the inference pool. onnxruntime-node's session.run blocks the
 * thread it runs on for the whole inference (hundreds of milliseconds), so it runs here
 * and the event loop stays free for health checks and other calls.
 * Each worker keeps its own least-recently-used set of sessions.
 */
import { parentPort } from "node:worker_threads";
import { move } from "piscina";
import { VoiceLoadError } from "./errors.js";
import { WORKER_LOADED } from "./inference-pool.js";
import { VoiceSession, type Scales } from "./inference.js";
import { parseVoiceConfig } from "./voice-config.js";

export interface InferenceTask {
  modelFile: string;
  modelHash: string;
  /** The voice's .onnx.json content, so the worker checks model and config together. */
  configJson: unknown;
  configFile: string;
  ids: number[];
  scales: Scales;
  speakerId: number;
  intraOpThreads: number;
  maxLoadedVoices: number;
}

// This module (onnxruntime's binding with it) has loaded: the pool may now stop this worker.
parentPort?.postMessage(WORKER_LOADED);

const sessions = new Map<string, Promise<VoiceSession>>();

async function sessionFor(task: InferenceTask): Promise<VoiceSession> {
  const key = `${task.modelFile}#${task.modelHash}`;
  let session = sessions.get(key);
  if (session) {
    sessions.delete(key); // re-insert: Map order is the recency order
  } else {
    const config = parseVoiceConfig(task.configJson, task.configFile);
    session = VoiceSession.load(task.modelFile, config, { intraOpThreads: task.intraOpThreads });
    session.catch(() => sessions.delete(key));
  }
  sessions.set(key, session);
  while (sessions.size > task.maxLoadedVoices) {
    const [oldest, evicted] = sessions.entries().next().value!;
    sessions.delete(oldest);
    void evicted.then(
      (s) => s.release(),
      () => undefined,
    );
  }
  return session;
}

/** Error classes do not survive the thread boundary, so load failures travel as data. */
export type InferenceResult = Float32Array | { loadError: { file: string; problem: string } };

export default async function infer(task: InferenceTask): Promise<InferenceResult> {
  let session: VoiceSession;
  try {
    session = await sessionFor(task);
  } catch (error) {
    if (error instanceof VoiceLoadError) return { loadError: { file: error.file, problem: error.problem } };
    throw error;
  }
  const audio = await session.run(task.ids, task.scales, task.speakerId);
  // Copy out of onnxruntime's buffer, then hand the copy's memory over instead of cloning it.
  const samples = new Float32Array(audio);
  return move(samples) as unknown as Float32Array;
}
