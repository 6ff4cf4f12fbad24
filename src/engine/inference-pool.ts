/**
 * A fixed set of inference worker threads, each running one task at a time. A task (plan,
 * prepare, a sentence's encoder run, one window of its decoding) leases an idle worker,
 * first come first served; load and unload go to every worker, so that all of them hold the
 * same voices. The pool remembers which voice configs each worker holds and sends a config
 * only to a worker that lacks it.
 *
 * A split voice's encoder is loaded in one worker in WORKERS_PER_ENCODER, and its flow and
 * decoder in every worker: the encoder holds 28 of the default voice's 63 MB of weights and
 * takes about an eighth of a sentence's inference, run on two intra-op threads
 * (inference.ts), so the cores stay busy while the other workers wait for its frames. An
 * encoder worker takes the encoder runs waiting before anything else, so a new sentence is
 * not held behind windows others can decode. Interleaved A/B on 2 cores against an encoder in every worker: RSS 420 → 312 MB
 * serving and 601 → 486 MB after load; one caller 0.98-1.03x the time; throughput at
 * concurrency 1, 2 and 8 0.99x, 0.99x and 0.97x (means of four runs). With one-thread
 * encoders the same split cost 8 % of the throughput: the decoder worker idled while both
 * requests waited for the encoder.
 *
 * A sentence's frames then go through the flow and the decoder in windows, each a task of
 * its own. For a caller that waits for the whole sentence, when no task waits, the frames are
 * cut into one equal share per idle worker, decoded side by side: one caller on an idle
 * replica gets every core (with one intra-op thread each) without the oversubscription that
 * more intra-op threads per worker cost under load, where each sentence is decoded in the
 * shipped windows in turn. A stream's windows are decoded one at a time (it plays them in
 * real time), so that a cancel waits for one window at most.
 */
import { Worker } from "node:worker_threads";
import { NothingToSpeakError, VoiceLoadError } from "../errors/index.js";
import {
  DECODE_WINDOWS,
  EARLY_DECODE_WINDOWS,
  type Encoded,
  flowInputs,
  frameWindows,
  type Scales,
  type SentenceFrames,
  sentenceWindow,
  type SpeechWindow,
  type VoiceGraph,
} from "./inference.js";
import type { Plan } from "./plan.js";
import type { PreparedVoice } from "./voice-graph.js";
import {
  type VoiceRef,
  WORKER_READY,
  type WorkerFailure,
  type WorkerReply,
  type WorkerRequest,
  type WorkerResult,
} from "./worker-protocol.js";

// How long close() waits for workers still loading onnxruntime (seconds here on 2 cores).
const LOAD_WAIT_LIMIT_MS = 60_000;

const INFERENCE_NICE_INCREMENT = 10;

/**
 * A sentence's encoder run took 33 of 132 ms at 50 characters and 73 of 289 ms at 200 here
 * (one intra-op thread each), so one encoder keeps up with the decoding of four workers.
 */
const WORKERS_PER_ENCODER = 4;

export interface InferencePoolOptions {
  threads: number;
  intraOpThreads: number;
}

/** A voice as the pool hands it to workers. */
export interface PoolVoice {
  readonly key: string;
  readonly modelFile: string;
  readonly configFile: string;
  readonly configJson: unknown;
}

interface Pending {
  resolve(value: WorkerResult): void;
  reject(error: unknown): void;
}

/** A task waiting for a worker: for a split voice's encoder run, one that holds the encoder. */
interface Waiter {
  readonly encoder: boolean;
  /** The next window of a stream's sentence under way. */
  readonly continuation: boolean;
  readonly granted: Promise<PoolWorker>;
  grant(worker: PoolWorker): void;
}

class PoolWorker {
  readonly configs = new Set<string>();
  busy = false;
  readonly ready: Promise<void>;
  /** Holds the encoders of split voices. */
  readonly encodes: boolean;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private failure: Error | undefined;

  constructor(
    readonly thread: Worker,
    encodes: boolean,
  ) {
    this.encodes = encodes;
    this.ready = new Promise((resolve) => {
      const onReady = (message: unknown): void => {
        if (message !== WORKER_READY) return;
        thread.off("message", onReady);
        resolve();
      };
      thread.on("message", onReady);
    });
    thread.on("message", (message: WorkerReply | typeof WORKER_READY) => {
      if (message === WORKER_READY) return;
      const pending = this.pending.get(message.seq);
      this.pending.delete(message.seq);
      if (!pending) return;
      if (message.ok) pending.resolve(message.value);
      else pending.reject(rebuild(message.failure));
    });
    thread.on("error", (error) => this.fail(error));
    thread.on("exit", (code) => this.fail(new Error(`inference worker exited (code ${code})`)));
  }

  /** A worker that died fails what it had and everything sent to it later. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.pending.values()) pending.reject(this.failure);
    this.pending.clear();
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** The voice as this worker needs it: with its config only the first time. */
  ref(voice: PoolVoice): VoiceRef {
    const { key, modelFile, configFile } = voice;
    if (this.configs.has(key)) return { key, modelFile, configFile };
    this.configs.add(key);
    return { key, modelFile, configFile, configJson: voice.configJson };
  }

  /** Sends the request; settles with the worker's reply. */
  call(request: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerResult> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.thread.postMessage({ seq, request }, transfer);
    });
  }
}

export class InferencePool {
  private readonly workers: PoolWorker[];
  /** Tasks waiting for a worker, first come first served. */
  private readonly waiting: Waiter[] = [];
  /** Keys of the loaded voices that run split: their encoder runs need an encoder worker. */
  private readonly split = new Set<string>();
  /** Names the next decode task, for a stop. */
  private nextTask = 0;

  constructor(private readonly options: InferencePoolOptions) {
    const url = new URL(`./inference-worker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);
    // A worker's entry must be a file Node runs by its extension, so the module is imported
    // from a one-line script; the TypeScript sources (npm start, vitest) register tsx first.
    const typescript = url.pathname.endsWith(".ts");
    const load = `import(${JSON.stringify(url.href)})`;
    const entry = typescript
      ? `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((tsx) => tsx.register()).then(() => ${load});`
      : `${load};`;
    const encoders = Math.ceil(options.threads / WORKERS_PER_ENCODER);
    this.workers = Array.from(
      { length: options.threads },
      (_, index) =>
        new PoolWorker(new Worker(entry, { eval: true, workerData: { niceIncrement: INFERENCE_NICE_INCREMENT } }), index < encoders),
    );
  }

  get threads(): number {
    return this.options.threads;
  }

  /** Phonemizes `text` for the voice in a worker. */
  async plan(voice: PoolVoice, text: string): Promise<Plan> {
    return (await this.task(false, (worker) => worker.call({ op: "plan", voice: worker.ref(voice), text }))) as Plan;
  }

  /**
   * One sentence's ids through the voice's model, window by window in order as they are
   * decoded; the voice must be loaded. Once `signal` aborts (or the iteration stops early)
   * no further window is decoded, and the iteration ends as soon as the windows being
   * decoded do: an encoder run or a window under way cannot be interrupted. `early`: the
   * caller sends each window on as it comes, so the first is small.
   */
  async *infer(
    voice: PoolVoice,
    ids: number[],
    scales: Scales,
    speakerId: number,
    signal: AbortSignal,
    early: boolean,
  ): AsyncGenerator<SpeechWindow> {
    const encoded = (await this.task(this.split.has(voice.key), (worker) =>
      worker.call({ op: "encode", voice: worker.ref(voice), ids, scales, speakerId }),
    )) as Encoded;
    if (encoded.kind === "samples") {
      yield encoded.window;
      return;
    }
    if (signal.aborted) return;
    const { frames, idFrames } = encoded;
    // A caller that sends each window on as it comes plays it in real time, far slower than
    // windows decode: its windows are decoded one at a time, so a cancel waits for one window
    // at most. For a caller that waits for the whole sentence, idle workers decode equal
    // shares of it side by side.
    const idle = this.waiting.length === 0 ? this.workers.filter((worker) => !worker.busy).length : 1;
    const windows = early
      ? frameWindows(frames.frames, EARLY_DECODE_WINDOWS)
      : frameWindows(frames.frames, DECODE_WINDOWS, Math.max(1, idle));
    const ahead = early ? 1 : windows.length;
    const leases: Waiter[] = [];
    const decoded: Promise<Float32Array | undefined>[] = [];
    /** The worker and task of each window being decoded, until it is. */
    const underWay = new Map<number, { worker: PoolWorker; task: number }>();
    const begin = (index: number): void => {
      const window = windows[index]!;
      const lease = this.lease(false, early && index > 0);
      leases.push(lease);
      decoded.push(
        lease.granted.then(async (worker) => {
          const task = this.nextTask++;
          underWay.set(index, { worker, task });
          try {
            const inputs = flowInputs(frames, window);
            const request: WorkerRequest = { op: "decode", task, voice: worker.ref(voice), inputs, window, speakerId };
            return (await worker.call(
              request,
              inputs.map((input) => input.data.buffer as ArrayBuffer),
            )) as Float32Array | undefined;
          } finally {
            underWay.delete(index);
            this.giveBack(worker);
          }
        }),
      );
      decoded[index]!.catch(() => undefined); // awaited in order below
    };
    for (let index = 0; index < Math.min(ahead, windows.length); index++) begin(index);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<undefined>((resolve) => {
      onAbort = () => resolve(undefined);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      for (const [index, window] of windows.entries()) {
        const samples = await Promise.race([decoded[index]!, aborted]);
        if (!samples) return;
        if (index + ahead < windows.length) begin(index + ahead);
        yield sentenceWindow(samples, window, index, windows.length, idFrames);
      }
    } finally {
      if (onAbort) signal.removeEventListener("abort", onAbort);
      // Windows not begun are dropped; those being decoded end first (their worker is busy
      // until then), without their decoder run if their flow run is still going.
      const begun = decoded.filter((_, index) => !this.withdraw(leases[index]!));
      for (const { worker, task } of underWay.values()) worker.call({ op: "stop", task }).catch(() => undefined);
      await Promise.allSettled(begun);
    }
  }

  /** Splits and self-checks the voice in one worker: how every worker is to load it. */
  async prepare(voice: PoolVoice, modelHash: string): Promise<PreparedVoice> {
    return (await this.task(false, (worker) =>
      worker.call({ op: "prepare", voice: worker.ref(voice), modelHash, intraOpThreads: this.options.intraOpThreads }),
    )) as PreparedVoice;
  }

  /**
   * Loads and warms the voice in every worker; rejects with the first failure. A split voice
   * loads in the encoding workers first: the workers that only decode warm up on the frames
   * they give.
   */
  async load(voice: PoolVoice, graph: VoiceGraph): Promise<void> {
    const load = (workers: PoolWorker[], workerGraph: VoiceGraph, warmUp?: SentenceFrames) =>
      this.onWorkers(workers, (worker) => ({
        op: "load",
        voice: worker.ref(voice),
        graph: workerGraph,
        intraOpThreads: this.options.intraOpThreads,
        warmUp,
      }));
    if (graph.kind !== "split") {
      await load(this.workers, graph);
      return;
    }
    const [warmUp] = await load(
      this.workers.filter((worker) => worker.encodes),
      graph,
    );
    const decoding: VoiceGraph = { kind: "decoder", flowFile: graph.flowFile, decoderFile: graph.decoderFile };
    await load(
      this.workers.filter((worker) => !worker.encodes),
      decoding,
      warmUp as SentenceFrames | undefined,
    );
    this.split.add(voice.key);
  }

  /** Drops the voice from every worker (each releases its session once no inference uses it). */
  async unload(key: string): Promise<void> {
    this.split.delete(key);
    await this.everyWorker((worker) => {
      worker.configs.delete(key);
      return { op: "unload", key };
    });
  }

  /**
   * Lets every worker finish loading its modules and every submitted message finish, then
   * stops the workers: terminating a worker while onnxruntime is loading or running in it
   * aborts the whole process ("terminate called after throwing an instance of 'Napi::Error'").
   */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    // A worker whose module failed to load never reports; do not wait for it forever.
    const loadLimit = new Promise<void>((resolve) => (timer = setTimeout(resolve, LOAD_WAIT_LIMIT_MS)));
    await Promise.race([Promise.all(this.workers.map((w) => w.ready)), loadLimit]);
    clearTimeout(timer);
    while (this.waiting.length > 0 || this.workers.some((w) => w.busy || w.inFlight > 0))
      await new Promise((resolve) => setTimeout(resolve, 10));
    await Promise.all(this.workers.map((w) => w.thread.terminate()));
  }

  private async task(encoder: boolean, run: (worker: PoolWorker) => Promise<WorkerResult>): Promise<WorkerResult> {
    const worker = await this.lease(encoder).granted;
    try {
      return await run(worker);
    } finally {
      this.giveBack(worker);
    }
  }

  /** Joins the queue; `granted` settles with a worker once this task's turn comes. */
  private lease(encoder: boolean, continuation = false): Waiter {
    let grant!: (worker: PoolWorker) => void;
    const granted = new Promise<PoolWorker>((resolve) => (grant = resolve));
    const waiter = { encoder, continuation, granted, grant };
    // A stream's next window goes before tasks that start something new: a sentence being
    // played is not held behind sentences that have not begun.
    const before = continuation ? this.waiting.findIndex((other) => !other.continuation) : -1;
    this.waiting.splice(before < 0 ? this.waiting.length : before, 0, waiter);
    this.schedule();
    return waiter;
  }

  /** Takes the task off the queue if it is still waiting; false once it has a worker. */
  private withdraw(waiter: Waiter): boolean {
    const index = this.waiting.indexOf(waiter);
    if (index >= 0) this.waiting.splice(index, 1);
    return index >= 0;
  }

  private giveBack(worker: PoolWorker): void {
    worker.busy = false;
    this.schedule();
  }

  /**
   * Gives idle workers the first task each can run: an encoder worker the first encoder run
   * waiting, else the first other task; the others the first task that needs no encoder.
   * Workers without an encoder are served first, to keep the encoders free.
   */
  private schedule(): void {
    for (const worker of [...this.workers].sort((a, b) => Number(a.encodes) - Number(b.encodes))) {
      if (worker.busy) continue;
      let index = worker.encodes ? this.waiting.findIndex((waiter) => waiter.encoder) : -1;
      if (index < 0) index = this.waiting.findIndex((waiter) => !waiter.encoder);
      if (index < 0) continue;
      const [waiter] = this.waiting.splice(index, 1);
      worker.busy = true;
      waiter!.grant(worker);
    }
  }

  private async everyWorker(request: (worker: PoolWorker) => WorkerRequest): Promise<void> {
    await this.onWorkers(this.workers, request);
  }

  /** Sends each worker its request; their results in order, or the first failure once all have answered. */
  private async onWorkers(workers: PoolWorker[], request: (worker: PoolWorker) => WorkerRequest): Promise<WorkerResult[]> {
    const results = await Promise.allSettled(workers.map((worker) => worker.call(request(worker))));
    const failed = results.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    return results.map((result) => (result as PromiseFulfilledResult<WorkerResult>).value);
  }
}

function rebuild(failure: WorkerFailure): Error {
  if (failure.kind === "voice-load") {
    return new VoiceLoadError(
      failure.file!,
      failure.problem!,
      failure.detail === undefined ? undefined : { cause: new Error(failure.detail) },
    );
  }
  if (failure.kind === "nothing-to-speak") return new NothingToSpeakError(failure.text!);
  return new Error(`inference worker: ${failure.message}`);
}
