/**
 * Messages between the engine (main thread) and its inference workers. A voice is named by
 * its key (id, model hash, config version); its config JSON travels to a worker only with the
 * first message that worker gets for that key.
 */
import type { Encoded, FrameTensor, FrameWindow, SentenceFrames, Scales, VoiceGraph } from "./inference.js";
import type { Plan } from "./plan.js";
import type { PreparedVoice } from "./voice-graph.js";

export interface VoiceRef {
  readonly key: string;
  readonly modelFile: string;
  readonly configFile: string;
  /** Present when the worker does not hold this key's config yet. */
  readonly configJson?: unknown;
}

export type WorkerRequest =
  /** Text → sentences of phoneme ids (espeak-ng runs in the worker, not on the event loop). */
  | { readonly op: "plan"; readonly voice: VoiceRef; readonly text: string }
  /** One sentence's ids through the voice's encoder (Encoded). The voice must be loaded in this worker. */
  | { readonly op: "encode"; readonly voice: VoiceRef; readonly ids: number[]; readonly scales: Scales; readonly speakerId: number }
  /**
   * One window of a sentence's frames (flowInputs' copies, transferred) through the flow and
   * the decoder → its samples; undefined if told to stop before the decoder ran.
   */
  | {
      readonly op: "decode";
      /** Names this decode for a later stop. */
      readonly task: number;
      readonly voice: VoiceRef;
      readonly inputs: FrameTensor[];
      readonly window: FrameWindow;
      readonly speakerId: number;
    }
  /** Splits the voice (or finds its cached parts) and self-checks the parts: how every worker is to load it. */
  | { readonly op: "prepare"; readonly voice: VoiceRef; readonly modelHash: string; readonly intraOpThreads: number }
  /**
   * Creates the voice's onnxruntime sessions and warms them with one short sentence: a worker
   * that encodes speaks it (and answers with its frames), one that only decodes decodes
   * `warmUp`, those frames.
   */
  | {
      readonly op: "load";
      readonly voice: VoiceRef;
      readonly graph: VoiceGraph;
      readonly intraOpThreads: number;
      readonly warmUp?: SentenceFrames;
    }
  /** The decode `task` is no longer wanted: if its flow is still running, its decoder will not. */
  | { readonly op: "stop"; readonly task: number }
  /** Releases the voice's sessions once no inference is using them, and forgets its config. */
  | { readonly op: "unload"; readonly key: string };

export type WorkerResult = Plan | PreparedVoice | Encoded | SentenceFrames | Float32Array | undefined;

/** Errors do not keep their class across threads; these fields rebuild the typed ones. */
export interface WorkerFailure {
  readonly kind: "voice-load" | "nothing-to-speak" | "other";
  readonly message: string;
  readonly file?: string;
  readonly problem?: string;
  /** The message of what caused a voice-load failure (onnxruntime's), for the server log. */
  readonly detail?: string | undefined;
  readonly text?: string;
}

export type WorkerReply =
  | { readonly seq: number; readonly ok: true; readonly value: WorkerResult }
  | { readonly seq: number; readonly ok: false; readonly failure: WorkerFailure };

/** Posted once by each worker after its modules (onnxruntime's binding among them) loaded. */
export const WORKER_READY = "aetheros-tts inference worker ready";
