/**
 * onnxruntime-node sessions for one voice in one worker. A voice runs in two parts when it
 * splits (voice-split.ts): the encoder once per sentence, then the decoder on windows of
 * latent frames, each window's samples ready as soon as its run ends, and memory bounded by
 * the window, not the sentence. A voice that does not split runs as the one model it is.
 *
 * Session options, chosen on purpose:
 * - intraOpNumThreads: ONNX_INTRA_OP_THREADS (default 1). On a 2-core replica, one thread
 *   per inference and MAX_CONCURRENT_REQUESTS=2 inferences side by side gives more
 *   throughput than two threads fighting over each inference; raise it for single-caller
 *   latency on bigger machines. A split voice's encoder gets at least ENCODER_MIN_THREADS.
 * - interOpNumThreads 1 and sequential execution: VITS graphs are a chain, parallel
 *   branches buy nothing.
 * - A session with more than one intra-op thread does not spin-wait: each
 *   session has its own intra-op threads, and by default they busy-wait after every run,
 *   so the encoder's threads took the cores from the decoder's (and the other way round at
 *   the next sentence). At intra 2 a 50-character sentence took 1.6x the whole model's
 *   time that way; without spinning the split is as fast as the whole model
 *   (bench/engine-latency.ts). One thread spins nowhere: the calling thread does the work.
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
import { DURATION_SCALE, DURATIONS, LATENT } from "./voice-split.js";

export interface Scales {
  noiseScale: number;
  lengthScale: number;
  noiseW: number;
  /**
   * Stretches the model's durations by exactly this ratio (2 = twice as long); 1 leaves them
   * Piper's. A voice that runs whole has no such input and takes it as length_scale, which
   * stretches less (see voice-split.ts).
   */
  durationScale: number;
}

/** How the decoder walks a sentence's latent frames. */
export interface DecodeWindows {
  /** Frames in the first window: a small one brings a sentence's first samples early, at some context overhead. */
  first: number;
  /** Frames in every later window: large, so that context costs little. */
  later: number;
  /** Frames decoded on each side of a window and dropped, so its samples are the whole decode's. */
  context: number;
}

/**
 * en_US-joe-medium, noise 0, a 1819-frame sentence: with 10 frames of context each window
 * matched one decode of all frames within 0.15 LSB of 16-bit PCM, with 8 frames it was off
 * by 43-131 LSB, with 4 by 900-2100 (the decoder's receptive field is about 10 frames);
 * 12 leaves a margin. 256-frame windows (3 s of audio) cost 9 % more decoder work than one
 * run and hold ~40 MB of activations however long the sentence.
 * The first window is as large as the later ones for a caller that waits for a sentence's
 * last window anyway (Piper's peak normalization, pitch shifting, a unary call): there a
 * small first window brought nothing forward and only cost context (32 frames made a
 * 50-character sentence 7-9 % slower, bench/engine-latency.ts, intra 1).
 * test/engine/windowed-decoding.test.ts proves the sizes.
 */
export const DECODE_WINDOWS: DecodeWindows = { first: 256, later: 256, context: 12 };
/**
 * For a caller that sends each window on as it comes: a first window of 16 frames (0.19 s
 * of audio at 22050 Hz) takes about 9 ms to decode on one thread, against 48 ms for 128
 * (onnxruntime-node 1.31), and the next window (at most 256 frames, about 100 ms on one
 * thread) is ready before it has played.
 */
export const EARLY_DECODE_WINDOWS: DecodeWindows = { ...DECODE_WINDOWS, first: 16 };

/** How a voice's graph runs in the workers. */
export type VoiceGraph =
  | { readonly kind: "split"; readonly encoderFile: string; readonly decoderFile: string }
  /** A split voice's decoder alone, in a worker that only decodes. */
  | { readonly kind: "decoder"; readonly decoderFile: string }
  | { readonly kind: "whole"; readonly modelFile: string };

export interface InferenceOptions {
  intraOpThreads: number;
  windows?: DecodeWindows;
}

/** Consecutive samples of one sentence, in order. */
export interface SpeechWindow {
  /** In a buffer of their own (never onnxruntime's), so they can be handed to another thread. */
  samples: Float32Array;
  /**
   * On a sentence's first window: output samples each phoneme id lasts (the model's own
   * durations). A voice that runs whole has them only if its model has a `durations` output,
   * which Piper's exports do not.
   */
  idDurations?: number[];
  /** The sentence's last window. */
  last: boolean;
}

/** A sentence's latent frames, [1, channels, frames]: each channel's frames, channel after channel. */
export interface Latent {
  data: Float32Array;
  channels: number;
  frames: number;
}

/** What a sentence's encoder run gives. */
export type Encoded =
  | { readonly kind: "latent"; readonly latent: Latent; readonly idFrames: number[] }
  /** A voice that runs whole has its samples at once. */
  | { readonly kind: "samples"; readonly window: SpeechWindow };

/** A window's own frames [start, end), decoded as from..to with context on each side. */
export interface FrameWindow {
  readonly start: number;
  readonly end: number;
  readonly from: number;
  readonly to: number;
}

/**
 * Below this many frames a share, a sentence is not spread over workers: each share's
 * context and messages would cost about what the split saves.
 */
const MIN_SHARE_FRAMES = 64;

/**
 * How a sentence's frames are decoded: a first window smaller than the others on its own
 * (it is what the listener hears first), then windows of `later` frames on one worker, or,
 * spread over `workers`, a multiple of that many windows of equal size, so that each worker
 * gets as many frames.
 */
export function frameWindows(frames: number, windows: DecodeWindows, workers = 1): FrameWindow[] {
  const sizes: number[] = [];
  const head = windows.first < windows.later && frames > windows.first ? windows.first : 0;
  if (head > 0) sizes.push(head);
  const rest = frames - head;
  if (workers > 1 && rest >= workers * MIN_SHARE_FRAMES) {
    const count = workers * Math.ceil(rest / (workers * windows.later));
    for (let done = 0; done < rest; done += Math.ceil(rest / count)) sizes.push(Math.ceil(rest / count));
  } else {
    for (let done = 0, size = head > 0 ? windows.later : windows.first; done < rest; done += size, size = windows.later) sizes.push(size);
  }
  let start = 0;
  return sizes.map((size) => {
    const end = Math.min(frames, start + size);
    const window = { start, end, from: Math.max(0, start - windows.context), to: Math.min(frames, end + windows.context) };
    start = end;
    return window;
  });
}

/** The window's frames from..to of every channel, in a buffer of their own. */
export function latentWindow(latent: Latent, window: FrameWindow): Float32Array {
  const { data, channels, frames } = latent;
  const length = window.to - window.from;
  const copy = new Float32Array(channels * length);
  for (let c = 0; c < channels; c++) copy.set(data.subarray(c * frames + window.from, c * frames + window.to), c * length);
  return copy;
}

/** A decoded window as a sentence's SpeechWindow: the per-id durations come with its first, in this window's samples per frame. */
export function sentenceWindow(
  samples: Float32Array,
  window: FrameWindow,
  index: number,
  count: number,
  idFrames: readonly number[],
): SpeechWindow {
  const hop = samples.length / (window.end - window.start);
  return { samples, idDurations: index === 0 ? idFrames.map((frames) => frames * hop) : undefined, last: index === count - 1 };
}

const speakerTensor = (speakerId: number): ort.Tensor => new ort.Tensor("int64", BigInt64Array.of(BigInt(speakerId)), [1]);

/**
 * Intra-op threads of a split voice's encoder, at least. The encoder run is about a quarter
 * of a sentence's inference, and on an idle replica the other workers wait for its frames
 * (they help with the decoding after it), so a second thread there shortens every
 * sentence; under load it costs little, as the decoders hold the cores most of the time.
 * Interleaved A/B on 2 cores against one thread: one caller 0.91-0.92x the time at 50-200
 * characters, throughput at concurrency 2 and 8 0.96x and 0.98x (means of three runs).
 */
export const ENCODER_MIN_THREADS = 2;

const VOICE_INPUTS = ["input", "input_lengths", "scales"];

export class VoiceSession {
  private constructor(
    /** The encoder, or the whole model; none in a decoder-only session. */
    private readonly first: ort.InferenceSession | undefined,
    private readonly decoder: ort.InferenceSession | undefined,
    private readonly multiSpeaker: boolean,
    private readonly scalesDurations: boolean,
    private readonly windows: DecodeWindows,
  ) {}

  static async load(graph: VoiceGraph, config: PiperVoiceConfig, options: InferenceOptions): Promise<VoiceSession> {
    const open = async (file: string, threads: number): Promise<ort.InferenceSession> => {
      try {
        return await ort.InferenceSession.create(file, {
          executionProviders: ["cpu"],
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          executionMode: "sequential",
          graphOptimizationLevel: "all",
          enableCpuMemArena: true,
          enableMemPattern: false,
          ...(graph.kind === "whole" || threads <= 1 ? {} : { extra: { session: { intra_op: { allow_spinning: "0" } } } }),
        });
      } catch (error) {
        throw new VoiceLoadError(file, "onnxruntime cannot load the model (missing, truncated or corrupt)", { cause: error });
      }
    };
    const windows = options.windows ?? DECODE_WINDOWS;
    if (graph.kind === "decoder")
      return new VoiceSession(undefined, await open(graph.decoderFile, options.intraOpThreads), false, false, windows);
    const file = graph.kind === "split" ? graph.encoderFile : graph.modelFile;
    const first = await open(file, graph.kind === "split" ? Math.max(options.intraOpThreads, ENCODER_MIN_THREADS) : options.intraOpThreads);
    const release = async (error: unknown): Promise<never> => {
      await first.release();
      throw error;
    };
    const inputs = new Set(first.inputNames);
    for (const name of VOICE_INPUTS) {
      if (!inputs.has(name))
        await release(
          new VoiceLoadError(file, `the model has no "${name}" input; it is not a Piper voice (inputs: ${first.inputNames.join(", ")})`),
        );
    }
    const multiSpeaker = inputs.has("sid");
    if (multiSpeaker !== config.numSpeakers > 1) {
      await release(
        new VoiceLoadError(
          file,
          `the config says num_speakers=${config.numSpeakers} but the model ${multiSpeaker ? "takes" : "has no"} a speaker input`,
        ),
      );
    }
    const decoder = graph.kind === "split" ? await open(graph.decoderFile, options.intraOpThreads).catch(release) : undefined;
    return new VoiceSession(first, decoder, multiSpeaker, inputs.has(DURATION_SCALE), windows);
  }

  /**
   * One sentence's ids through the encoder: its latent frames for the decoder, or, for a
   * voice that runs whole, its samples.
   */
  async encode(ids: readonly number[], scales: Scales, speakerId: number): Promise<Encoded> {
    if (!this.first) throw new Error("encode: this session only decodes");
    const feeds: Record<string, ort.Tensor> = {
      input: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, ids.length]),
      input_lengths: new ort.Tensor("int64", BigInt64Array.of(BigInt(ids.length)), [1]),
      scales: new ort.Tensor(
        "float32",
        Float32Array.of(
          scales.noiseScale,
          this.scalesDurations ? scales.lengthScale : scales.lengthScale * scales.durationScale,
          scales.noiseW,
        ),
        [3],
      ),
    };
    if (this.scalesDurations) feeds[DURATION_SCALE] = new ort.Tensor("float32", Float32Array.of(scales.durationScale), [1]);
    if (this.multiSpeaker) feeds.sid = speakerTensor(speakerId);
    const results = await this.first.run(feeds);
    if (!this.decoder) {
      const samples = new Float32Array(results[this.first.outputNames[0]!]!.data as Float32Array);
      // Piper's own exports give only the audio; a model that also outputs its durations gets timings.
      const frames = results[DURATIONS] ? Array.from(results[DURATIONS].data as Float32Array) : undefined;
      const hop = frames ? samples.length / frames.reduce((sum, idFrames) => sum + idFrames, 0) : 0;
      return { kind: "samples", window: { samples, idDurations: frames?.map((idFrames) => idFrames * hop), last: true } };
    }
    const latent = results[LATENT]!;
    const [, channels, frames] = latent.dims as [number, number, number];
    return {
      kind: "latent",
      latent: { data: new Float32Array(latent.data as Float32Array), channels, frames },
      idFrames: Array.from(results[DURATIONS]!.data as Float32Array),
    };
  }

  /** One window of latent frames (latentWindow's copy) → the samples of its own frames. */
  async decode(data: Float32Array, channels: number, window: FrameWindow, speakerId: number): Promise<Float32Array> {
    if (!this.decoder) throw new Error("decode: this voice runs whole");
    const feeds: Record<string, ort.Tensor> = { [LATENT]: new ort.Tensor("float32", data, [1, channels, window.to - window.from]) };
    // A multi-speaker decoder is conditioned on the speaker's embedding.
    if (this.decoder.inputNames.includes("sid")) feeds.sid = speakerTensor(speakerId);
    const output = (await this.decoder.run(feeds))[this.decoder.outputNames[0]!]!.data as Float32Array;
    const hop = output.length / (window.to - window.from);
    return output.slice((window.start - window.from) * hop, (window.end - window.from) * hop);
  }

  /** One sentence's ids → its samples, window by window, all in this thread. */
  async *speak(ids: readonly number[], scales: Scales, speakerId: number): AsyncGenerator<SpeechWindow> {
    const encoded = await this.encode(ids, scales, speakerId);
    if (encoded.kind === "samples") {
      yield encoded.window;
      return;
    }
    const { latent, idFrames } = encoded;
    const windows = frameWindows(latent.frames, this.windows);
    for (const [index, window] of windows.entries()) {
      const samples = await this.decode(latentWindow(latent, window), latent.channels, window, speakerId);
      yield sentenceWindow(samples, window, index, windows.length, idFrames);
    }
  }

  /** Whether encode() runs here (a decoder-only session only decodes). */
  get encodes(): boolean {
    return this.first !== undefined;
  }

  /** Latent channels the decoder reads, when its model says (for warming it up without an encoder). */
  get latentChannels(): number | undefined {
    const z = this.decoder?.inputMetadata.find((input) => input.name === LATENT);
    const channels = z?.isTensor ? z.shape[1] : undefined;
    return typeof channels === "number" ? channels : undefined;
  }

  async release(): Promise<void> {
    await Promise.all([this.first?.release(), this.decoder?.release()]);
  }
}
