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
import { VoiceSession } from "./inference.js";
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
  type WorkerWindow,
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
/** Infer requests running, by seq, and whether they were asked to stop. */
const inferences = new Map<number, { cancelled: boolean }>();

function configOf(voice: VoiceRef): PiperVoiceConfig {
  if (voice.configJson !== undefined) configs.set(voice.key, parseVoiceConfig(voice.configJson, voice.configFile));
  const config = configs.get(voice.key);
  if (!config) throw new Error(`worker has no config for voice ${voice.key}`);
  return config;
}

async function handle(seq: number, request: WorkerRequest): Promise<WorkerResult> {
  switch (request.op) {
    case "plan":
      return planSpeech(request.text, configOf(request.voice));
    case "infer": {
      configOf(request.voice);
      const loaded = sessions.get(request.voice.key);
      if (!loaded || loaded.unloaded) throw new Error(`voice ${request.voice.key} is not loaded in this worker`);
      const inference = { cancelled: false };
      inferences.set(seq, inference);
      loaded.running++;
      try {
        for await (const window of loaded.session.speak(request.ids, request.scales, request.speakerId)) {
          const message: WorkerWindow = { seq, window };
          port.postMessage(message, [window.samples.buffer as ArrayBuffer]);
          // The cancel message is read between windows: each run leaves the event loop a turn.
          if (inference.cancelled) break;
        }
        return undefined;
      } finally {
        inferences.delete(seq);
        loaded.running--;
        if (loaded.unloaded && loaded.running === 0) await loaded.session.release();
      }
    }
    case "cancel": {
      const inference = inferences.get(request.seq);
      if (inference) inference.cancelled = true;
      return undefined;
    }
    case "prepare":
      return prepareVoice(request.voice.modelFile, request.modelHash, configOf(request.voice), { intraOpThreads: request.intraOpThreads });
    case "load": {
      const config = configOf(request.voice);
      if (sessions.has(request.voice.key)) return undefined;
      const session = await VoiceSession.load(request.graph, config, { intraOpThreads: request.intraOpThreads });
      let warmUp: number[];
      try {
        warmUp = planSpeech(WARM_UP_TEXT, config).sentences[0]!.ids;
      } catch (error) {
        await session.release();
        throw new VoiceLoadError(
          request.voice.configFile,
          `espeak.voice ${JSON.stringify(config.espeakVoice)} cannot phonemize: ${(error as Error).message}`,
        );
      }
      const scales = { noiseScale: config.noiseScale, lengthScale: config.lengthScale, noiseW: config.noiseW, durationScale: 1 };
      for await (const _ of session.speak(warmUp, scales, 0));
      sessions.set(request.voice.key, { session, running: 0, unloaded: false });
      return undefined;
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

port.on("message", ({ seq, request }: { seq: number; request: WorkerRequest }) => {
  handle(seq, request).then(
    (value) => {
      const reply: WorkerReply = { seq, ok: true, value };
      port.postMessage(reply);
    },
    (error: unknown) => {
      const reply: WorkerReply = { seq, ok: false, failure: failure(error) };
      port.postMessage(reply);
    },
  );
});

// This module, onnxruntime's binding with it, has loaded: the pool may now stop this worker.
port.postMessage(WORKER_READY);
