/**
 * One onnxruntime-node session per voice, shared by all requests for that voice.
 *
 * Session options, chosen on purpose:
 * - intraOpNumThreads: ONNX_INTRA_OP_THREADS (default 1). On a 2-core replica, one thread
 *   per inference and MAX_CONCURRENT_REQUESTS=2 inferences side by side gives more
 *   throughput than two threads fighting over each inference; raise it for single-caller
 *   latency on bigger machines.
 * - interOpNumThreads 1 and sequential execution: VITS graphs are a chain, parallel
 *   branches buy nothing.
 * - graphOptimizationLevel "all": the fused graph is built once per session load.
 * - CPU memory arena on: each run reuses buffers instead of allocating per sentence.
 * - Memory pattern off: with it, every input length gets a planned single block for all of
 *   a run's intermediate tensors, and those blocks of varying size fragmented the arena,
 *   which then grew in steps of 50-70 MB that it never gives back (the reliability soak's
 *   RSS rose up to 20 % after warm-up). Without it, 10 soaks stayed within -1.7 to +2.7 %, and
 *   inference time is the same (0.996x in an interleaved A/B of 120 runs here).
 */
import * as ort from "onnxruntime-node";
import { VoiceLoadError } from "../errors/index.js";
import type { PiperVoiceConfig } from "./voice-config.js";

export interface InferenceOptions {
  intraOpThreads: number;
}

export interface Scales {
  noiseScale: number;
  lengthScale: number;
  noiseW: number;
}

export class VoiceSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly multiSpeaker: boolean,
  ) {}

  static async load(modelFile: string, config: PiperVoiceConfig, options: InferenceOptions): Promise<VoiceSession> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelFile, {
        executionProviders: ["cpu"],
        intraOpNumThreads: options.intraOpThreads,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
        enableCpuMemArena: true,
        enableMemPattern: false,
      });
    } catch (error) {
      throw new VoiceLoadError(modelFile, "onnxruntime cannot load the model (missing, truncated or corrupt)", { cause: error });
    }
    const inputs = new Set(session.inputNames);
    for (const name of ["input", "input_lengths", "scales"]) {
      if (!inputs.has(name))
        throw new VoiceLoadError(
          modelFile,
          `the model has no "${name}" input; it is not a Piper voice (inputs: ${session.inputNames.join(", ")})`,
        );
    }
    const modelMultiSpeaker = inputs.has("sid");
    if (modelMultiSpeaker !== config.numSpeakers > 1) {
      throw new VoiceLoadError(
        modelFile,
        `the config says num_speakers=${config.numSpeakers} but the model ${modelMultiSpeaker ? "takes" : "has no"} a speaker input`,
      );
    }
    return new VoiceSession(session, modelMultiSpeaker);
  }

  /** Runs the model on one sentence's ids; returns the raw float samples. */
  async run(ids: readonly number[], scales: Scales, speakerId: number): Promise<Float32Array> {
    const feeds: Record<string, ort.Tensor> = {
      input: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, ids.length]),
      input_lengths: new ort.Tensor("int64", BigInt64Array.of(BigInt(ids.length)), [1]),
      scales: new ort.Tensor("float32", Float32Array.of(scales.noiseScale, scales.lengthScale, scales.noiseW), [3]),
    };
    if (this.multiSpeaker) feeds.sid = new ort.Tensor("int64", BigInt64Array.of(BigInt(speakerId)), [1]);
    const results = await this.session.run(feeds);
    const output = results[this.session.outputNames[0]!]!;
    return output.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
