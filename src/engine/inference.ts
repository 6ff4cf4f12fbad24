/**
 * onnxruntime-node sessions for one voice in one worker. A voice runs in three parts when it
 * splits (voice-split.ts): the encoder once per sentence, then the flow and the decoder on
 * windows of frames, each window's samples ready as soon as its runs end, and memory bounded
 * by the window, not the sentence. A voice that does not split runs as the one model it is.
 *
 * Session options, chosen on purpose:
 * - intraOpNumThreads: ONNX_INTRA_OP_THREADS (default 1). On a 2-core replica, one thread
 *   per inference and MAX_CONCURRENT_REQUESTS=2 inferences side by side gives more
 *   throughput than two threads fighting over each inference (interleaved A/B of two servers
 *   on 2 cores, intra 2: throughput 0.89x at 8 callers and 0.94x at 2; one worker at intra 2
 *   took 1.21x the time of two workers sharing a 50-character sentence); raise it for
 *   single-caller latency on bigger machines. A split voice's encoder gets at least
 *   ENCODER_MIN_THREADS.
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

/** How the flow and the decoder walk a sentence's frames. */
export interface DecodeWindows {
  /** Frames in the first window: a small one brings a sentence's first samples early, at some context overhead. */
  first: number;
  /** Frames in every later window: large, so that context costs little. */
  later: number;
  /** Frames decoded on each side of a window and dropped, so its samples are the whole decode's. */
  context: number;
  /** Frames the flow runs on each side of the frames the decoder reads, and drops, so its output there is the whole flow's. */
  flowContext: number;
}

/**
 * The flow's receptive field: each of its 4 coupling layers runs 4 convolutions of kernel 5
 * (2 frames on each side) over the frames, 32 frames in all. Measured on the 426-phoneme
 * golden sentence in windows of 64 frames, beyond the decoder's own context: 0 frames of flow
 * context put the edges off by 10069 LSB of 16-bit PCM, 8 by 143, 12 by 16, 24 by 1; 32
 * leaves the margin (test/engine/windowed-decoding.test.ts).
 */
const FLOW_CONTEXT = 32;

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
export const DECODE_WINDOWS: DecodeWindows = { first: 256, later: 256, context: 12, flowContext: FLOW_CONTEXT };
/**
 * For a caller that sends each window on as it comes (the pool decodes its windows one at a
 * time): a first window of 16 frames (0.19 s of audio at 22050 Hz) runs the flow and the
 * decoder in about 15 ms on one thread, and the next ones ahead of playback. Later windows of
 * 128 frames (1.5 s of audio, about 65 ms) rather than 256: a cancelled stream holds its
 * worker until the window under way ends (its flow run, if its decoder run has not begun),
 * and before that skip the live-cancel bench gave 37-52 ms medians with 128 frames against
 * 57-71 ms with 256, for 7 % more flow and decoder work per sentence (context decoded twice
 * as often; 96 frames: 13 %). A first window of 8 frames brought the first audio 2.5 ms
 * earlier (interleaved A/B of two servers, 0.92-0.93x), but its 93 ms of audio left the
 * 128-frame window little time: with 2 and 4 streams at once, 1 stream in 16 and 1 in 32
 * stopped for 5.5-5.8 ms after it, where 16 frames never did.
 */
export const EARLY_DECODE_WINDOWS: DecodeWindows = { ...DECODE_WINDOWS, first: 16, later: 128 };

/** How a voice's graph runs in the workers. */
export type VoiceGraph =
  | { readonly kind: "split"; readonly encoderFile: string; readonly flowFile: string; readonly decoderFile: string }
  /** A split voice's flow and decoder, in a worker that only decodes. */
  | { readonly kind: "decoder"; readonly flowFile: string; readonly decoderFile: string }
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

/** One of the flow's inputs, [1, channels, frames]: each channel's frames, channel after channel. */
export interface FrameTensor {
  readonly name: string;
  readonly channels: number;
  readonly data: Float32Array;
}

/** A sentence's frames as the encoder gives them to the flow. */
export interface SentenceFrames {
  readonly tensors: FrameTensor[];
  readonly frames: number;
}

/** What a sentence's encoder run gives. */
export type Encoded =
  | { readonly kind: "frames"; readonly frames: SentenceFrames; readonly idFrames: number[] }
  /** A voice that runs whole has its samples at once. */
  | { readonly kind: "samples"; readonly window: SpeechWindow };

/**
 * A window's own frames [start, end), decoded as from..to with context on each side, from
 * the flow's output over flowFrom..flowTo.
 */
export interface FrameWindow {
  readonly start: number;
  readonly end: number;
  readonly from: number;
  readonly to: number;
  readonly flowFrom: number;
  readonly flowTo: number;
}

/**
 * Below this many frames a share, a sentence is not spread over workers: each share's
 * context and messages would cost about what the split saves.
 */
const MIN_SHARE_FRAMES = 64;

/**
 * How a sentence's frames are decoded: a first window smaller than the others on its own
 * (it is what the listener hears first), then windows of `later` frames on one worker (the
 * last up to half a window longer), or,
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
    // A last window under half a window joins the one before: its context would cost more than its frames.
    const own = head > 0 ? 1 : 0;
    const last = rest - sizes.slice(own, -1).reduce((sum, size) => sum + size, 0);
    if (sizes.length - own >= 2 && last < windows.later / 2) sizes.splice(-2, 2, sizes.at(-2)! + last);
  }
  let start = 0;
  return sizes.map((size) => {
    const end = Math.min(frames, start + size);
    const from = Math.max(0, start - windows.context);
    const to = Math.min(frames, end + windows.context);
    const window = {
      start,
      end,
      from,
      to,
      flowFrom: Math.max(0, from - windows.flowContext),
      flowTo: Math.min(frames, to + windows.flowContext),
    };
    start = end;
    return window;
  });
}

/** Frames from..to of every channel of a [1, channels, frames] tensor, in a buffer of their own. */
function channelFrames(data: Float32Array, channels: number, frames: number, from: number, to: number): Float32Array {
  const copy = new Float32Array(channels * (to - from));
  for (let c = 0; c < channels; c++) copy.set(data.subarray(c * frames + from, c * frames + to), c * (to - from));
  return copy;
}

/** The flow's inputs over the window's flowFrom..flowTo, in buffers of their own. */
export function flowInputs(sentence: SentenceFrames, window: FrameWindow): FrameTensor[] {
  return sentence.tensors.map(({ name, channels, data }) => ({
    name,
    channels,
    data: channelFrames(data, channels, sentence.frames, window.flowFrom, window.flowTo),
  }));
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
 * Intra-op threads of a split voice's encoder, at least. Every sentence's first audio waits
 * for its encoder run, and on an idle replica the other workers wait for its frames (they
 * help with the decoding after it), so a second thread there shortens every sentence; under
 * load it costs little, as the decoders hold the cores most of the time. Interleaved A/B on
 * 2 cores against one thread, when the encoder still held the flow: one caller 0.91-0.92x
 * the time at 50-200 characters, throughput at concurrency 2 and 8 0.96x and 0.98x (means
 * of three runs).
 */
export const ENCODER_MIN_THREADS = 2;

const VOICE_INPUTS = ["input", "input_lengths", "scales"];

/** The flow and the decoder of a split voice. */
interface Decoding {
  readonly flow: ort.InferenceSession;
  readonly decoder: ort.InferenceSession;
}

export class VoiceSession {
  private constructor(
    /** The encoder, or the whole model; none in a decoder-only session. */
    private readonly first: ort.InferenceSession | undefined,
    private readonly decoding: Decoding | undefined,
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
    const openDecoding = async (parts: { flowFile: string; decoderFile: string }): Promise<Decoding> => {
      const flow = await open(parts.flowFile, options.intraOpThreads);
      return {
        flow,
        decoder: await open(parts.decoderFile, options.intraOpThreads).catch(async (error: unknown) => {
          await flow.release();
          throw error;
        }),
      };
    };
    if (graph.kind === "decoder") return new VoiceSession(undefined, await openDecoding(graph), false, false, windows);
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
    const decoding = graph.kind === "split" ? await openDecoding(graph).catch(release) : undefined;
    return new VoiceSession(first, decoding, multiSpeaker, inputs.has(DURATION_SCALE), windows);
  }

  /**
   * One sentence's ids through the encoder: its frames for the flow, or, for a voice that
   * runs whole, its samples.
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
    if (!this.decoding) {
      const samples = new Float32Array(results[this.first.outputNames[0]!]!.data as Float32Array);
      // Piper's own exports give only the audio; a model that also outputs its durations gets timings.
      const frames = results[DURATIONS] ? Array.from(results[DURATIONS].data as Float32Array) : undefined;
      const hop = frames ? samples.length / frames.reduce((sum, idFrames) => sum + idFrames, 0) : 0;
      return { kind: "samples", window: { samples, idDurations: frames?.map((idFrames) => idFrames * hop), last: true } };
    }
    const idFrames = Array.from(results[DURATIONS]!.data as Float32Array);
    const frames = idFrames.reduce((sum, n) => sum + n, 0);
    const tensors = this.first.outputNames
      .filter((name) => name !== DURATIONS)
      .map((name) => {
        const { dims, data } = results[name]!;
        // Only tensors of frames can be cut into windows.
        if (dims.length !== 3 || dims[0] !== 1 || dims[2] !== frames)
          throw new Error(`the encoder's output ${name} is [${dims.join(", ")}], not [1, channels, ${frames}]`);
        return { name, channels: dims[1]!, data: new Float32Array(data as Float32Array) };
      });
    return { kind: "frames", frames: { tensors, frames }, idFrames };
  }

  /**
   * One window of a sentence's frames (flowInputs' copies) through the flow and the decoder
   * → the samples of its own frames. `stopped` is asked between the two runs: when it says
   * so, the decoder does not run (a run cannot be interrupted, but the second need not
   * begin) and there are no samples.
   */
  async decode(
    inputs: readonly FrameTensor[],
    window: FrameWindow,
    speakerId: number,
    stopped: () => Promise<boolean> = async () => false,
  ): Promise<Float32Array | undefined> {
    if (!this.decoding) throw new Error("decode: this voice runs whole");
    const { flow, decoder } = this.decoding;
    const flowFrames = window.flowTo - window.flowFrom;
    const flowFeeds: Record<string, ort.Tensor> = {};
    for (const { name, channels, data } of inputs) flowFeeds[name] = new ort.Tensor("float32", data, [1, channels, flowFrames]);
    // A multi-speaker flow and decoder are conditioned on the speaker's embedding.
    if (flow.inputNames.includes("sid")) flowFeeds.sid = speakerTensor(speakerId);
    const z = (await flow.run(flowFeeds))[LATENT]!;
    if (await stopped()) return undefined;
    const channels = z.dims[1]!;
    const latent = channelFrames(z.data as Float32Array, channels, flowFrames, window.from - window.flowFrom, window.to - window.flowFrom);
    const feeds: Record<string, ort.Tensor> = { [LATENT]: new ort.Tensor("float32", latent, [1, channels, window.to - window.from]) };
    if (decoder.inputNames.includes("sid")) feeds.sid = speakerTensor(speakerId);
    const output = (await decoder.run(feeds))[decoder.outputNames[0]!]!.data as Float32Array;
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
    const { frames, idFrames } = encoded;
    const windows = frameWindows(frames.frames, this.windows);
    for (const [index, window] of windows.entries()) {
      const samples = (await this.decode(flowInputs(frames, window), window, speakerId))!;
      yield sentenceWindow(samples, window, index, windows.length, idFrames);
    }
  }

  /** Whether encode() runs here (a decoder-only session only decodes). */
  get encodes(): boolean {
    return this.first !== undefined;
  }

  async release(): Promise<void> {
    await Promise.all([this.first?.release(), this.decoding?.flow.release(), this.decoding?.decoder.release()]);
  }
}
