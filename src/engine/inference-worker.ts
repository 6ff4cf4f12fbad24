/**
 * One inference worker thread. onnxruntime-node's session.run blocks the thread it runs on
 * for the whole inference (hundreds of milliseconds), and espeak-ng's phonemization of a
 * long text takes tens, so both run here and the event loop stays free for health checks
 * and cache hits. The engine decides which voices are loaded; a worker only follows its
 * load and unload messages.
 */
import { parentPort, workerData } from "node:worker_threads";
import { nice } from "@napi-rs/nice";
import { NothingToSpeakError, VoiceLoadError } from "../errors/index.js";
import { DECODE_WINDOWS, flowInputs, frameWindows, VoiceSession } from "./inference.js";
import { planSpeech } from "./plan.js";
import { parseVoiceConfig, type PiperVoiceConfig } from "./voice-config.js";
import { prepareVoice } from "./voice-graph.js";
import {
  type VoiceRef,
  WORKER_READY,
  type WorkerFailure,
  type WorkerReply,
  type WorkerRequest,
  type WorkerResult,
} from "./worker-protocol.js";

/** Text each voice speaks once when loaded, so the first request meets a warm session. */
const WARM_UP_TEXT = "Ready.";

interface LoadedSession {
  session: VoiceSession;
  /** Inferences running on it; an unloaded session is released when this drops to 0. */
  running: number;
  unloaded: boolean;
}

if (!parentPort) throw new Error("inference-worker runs as a worker thread");
const port = parentPort;

// Inference runs at a lower CPU priority than the event loop (nice(2) per thread; the
// intra-op threads onnxruntime starts inherit it), so with every core synthesizing, health
// checks and cache hits still get the CPU first. Idle cores still go to inference.
nice((workerData as { niceIncrement: number }).niceIncrement);

const configs = new Map<string, PiperVoiceConfig>();
const sessions = new Map<string, LoadedSession>();
/** Decode tasks under way, and those of them the pool has since told to stop. */
const decoding = new Set<number>();
const stopping = new Set<number>();

function configOf(voice: VoiceRef): PiperVoiceConfig {
  if (voice.configJson !== undefined) configs.set(voice.key, parseVoiceConfig(voice.configJson, voice.configFile));
  const config = configs.get(voice.key);
  if (!config) throw new Error(`worker has no config for voice ${voice.key}`);
  return config;
}

/** Runs `use` on the voice's loaded session; an unloaded session is released once nothing uses it. */
async function withSession<T>(voice: VoiceRef, use: (session: VoiceSession) => Promise<T>): Promise<T> {
  configOf(voice);
  const loaded = sessions.get(voice.key);
  if (!loaded || loaded.unloaded) throw new Error(`voice ${voice.key} is not loaded in this worker`);
  loaded.running++;
  try {
    return await use(loaded.session);
  } finally {
    loaded.running--;
    if (loaded.unloaded && loaded.running === 0) await loaded.session.release();
  }
}

async function handle(request: WorkerRequest): Promise<WorkerResult> {
  switch (request.op) {
    case "plan":
      return planSpeech(request.text, configOf(request.voice));
    case "encode":
      return withSession(request.voice, (session) => session.encode(request.ids, request.scales, request.speakerId));
    case "decode": {
      const { task } = request;
      decoding.add(task);
      try {
        return await withSession(request.voice, (session) =>
          session.decode(request.inputs, request.window, request.speakerId, async () => {
            // A stop posted while the flow ran is delivered before this.
            await new Promise(setImmediate);
            return stopping.has(task);
          }),
        );
      } finally {
        decoding.delete(task);
        stopping.delete(task);
      }
    }
    case "stop":
      if (decoding.has(request.task)) stopping.add(request.task);
      return undefined;
    case "prepare":
      return prepareVoice(request.voice.modelFile, request.modelHash, configOf(request.voice), { intraOpThreads: request.intraOpThreads });
    case "load": {
      const config = configOf(request.voice);
      if (sessions.has(request.voice.key)) return undefined;
      const session = await VoiceSession.load(request.graph, config, { intraOpThreads: request.intraOpThreads });
      let warmUp = request.warmUp;
      if (session.encodes) {
        let ids: number[];
        try {
          ids = planSpeech(WARM_UP_TEXT, config).sentences[0]!.ids;
        } catch (error) {
          await session.release();
          throw new VoiceLoadError(
            request.voice.configFile,
            `espeak.voice ${JSON.stringify(config.espeakVoice)} cannot phonemize: ${(error as Error).message}`,
          );
        }
        const scales = { noiseScale: config.noiseScale, lengthScale: config.lengthScale, noiseW: config.noiseW, durationScale: 1 };
        const encoded = await session.encode(ids, scales, 0);
        warmUp = encoded.kind === "frames" ? encoded.frames : undefined;
      }
      // A worker that only decodes warms up on the frames an encoding worker gave.
      if (warmUp)
        for (const window of frameWindows(warmUp.frames, DECODE_WINDOWS)) await session.decode(flowInputs(warmUp, window), window, 0);
      sessions.set(request.voice.key, { session, running: 0, unloaded: false });
      return session.encodes ? warmUp : undefined;
    }
    case "unload": {
      configs.delete(request.key);
      const loaded = sessions.get(request.key);
      sessions.delete(request.key);
      if (loaded && !loaded.unloaded) {
        loaded.unloaded = true;
        if (loaded.running === 0) await loaded.session.release();
      }
      return undefined;
    }
  }
}

function failure(error: unknown): WorkerFailure {
  if (error instanceof VoiceLoadError) {
    const detail = error.cause instanceof Error ? error.cause.message : undefined;
    return { kind: "voice-load", message: error.message, file: error.file, problem: error.problem, detail };
  }
  if (error instanceof NothingToSpeakError) return { kind: "nothing-to-speak", message: error.message, text: error.text };
  return { kind: "other", message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}

/** Sample and frame buffers move to the main thread instead of being copied. */
function transferable(value: WorkerResult): ArrayBuffer[] {
  if (value instanceof Float32Array) return [value.buffer as ArrayBuffer];
  const frames = value && "tensors" in value ? value : value && "kind" in value && value.kind === "frames" ? value.frames : undefined;
  if (frames) return frames.tensors.map((tensor) => tensor.data.buffer as ArrayBuffer);
  if (value && "kind" in value && value.kind === "samples") return [value.window.samples.buffer as ArrayBuffer];
  return [];
}

port.on("message", ({ seq, request }: { seq: number; request: WorkerRequest }) => {
  handle(request).then(
    (value) => {
      const reply: WorkerReply = { seq, ok: true, value };
      port.postMessage(reply, transferable(value));
    },
    (error: unknown) => {
      const reply: WorkerReply = { seq, ok: false, failure: failure(error) };
      port.postMessage(reply);
    },
  );
});

// This module, onnxruntime's binding with it, has loaded: the pool may now stop this worker.
port.postMessage(WORKER_READY);
