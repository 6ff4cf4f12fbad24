/**
 * A fixed set of inference worker threads, each running one task at a time. A task (plan,
 * prepare, or one sentence's inference) leases the first idle worker, first come first
 * served; load and unload go to every worker, so that all of them hold the same voices. The
 * pool remembers which voice configs each worker holds and sends a config only to a worker
 * that lacks it.
 *
 * A sentence is encoded on its own worker, then decoded in windows of latent frames. While
 * no other task waits, idle workers help: the sentence's frames are cut into as many equal
 * windows as there are workers to decode them side by side, so one caller on an idle replica
 * gets every core (with one intra-op thread each) without the oversubscription that more
 * intra-op threads per worker cost under load. A helper goes back to the pool as soon as a
 * task waits for a worker; the sentence's own worker decodes the windows left.
 */
import { Worker } from "node:worker_threads";
import { NothingToSpeakError, VoiceLoadError } from "../errors/index.js";
import { DECODE_WINDOWS, type Encoded, frameWindows, latentWindow, type Scales, type SpeechWindow, type VoiceGraph } from "./inference.js";
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

class PoolWorker {
  readonly configs = new Set<string>();
  busy = false;
  readonly ready: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private failure: Error | undefined;

  constructor(readonly thread: Worker) {
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
  private readonly waiting: Array<(worker: PoolWorker) => void> = [];

  constructor(private readonly options: InferencePoolOptions) {
    const url = new URL(`./inference-worker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);
    // A worker's entry must be a file Node runs by its extension, so the module is imported
    // from a one-line script; the TypeScript sources (npm start, vitest) register tsx first.
    const typescript = url.pathname.endsWith(".ts");
    const load = `import(${JSON.stringify(url.href)})`;
    const entry = typescript
      ? `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((tsx) => tsx.register()).then(() => ${load});`
      : `${load};`;
    this.workers = Array.from(
      { length: options.threads },
      () =>
        new PoolWorker(
          new Worker(entry, {
            eval: true,
            workerData: { niceIncrement: INFERENCE_NICE_INCREMENT },
          }),
        ),
    );
  }

  get threads(): number {
    return this.options.threads;
  }

  /** Phonemizes `text` for the voice in a worker. */
  async plan(voice: PoolVoice, text: string): Promise<Plan> {
    return (await this.task((worker) => worker.call({ op: "plan", voice: worker.ref(voice), text }))) as Plan;
  }

  /**
   * One sentence's ids through the voice's model, window by window in order as they are
   * decoded; the voice must be loaded. Once `signal` aborts (or the iteration stops early)
   * no further window is decoded, and the iteration ends as soon as the windows being
   * decoded do: an encoder run or a window under way cannot be interrupted.
   */
  async *infer(voice: PoolVoice, ids: number[], scales: Scales, speakerId: number, signal: AbortSignal): AsyncGenerator<SpeechWindow> {
    const own = await this.lease();
    const decoding: Array<Promise<void>> = [];
    let stopped = false;
    let onAbort: (() => void) | undefined;
    try {
      const encoded = (await own.call({ op: "encode", voice: own.ref(voice), ids, scales, speakerId })) as Encoded;
      if (encoded.kind === "samples") {
        yield encoded.window;
        return;
      }
      if (signal.aborted) return;
      const { latent, idFrames } = encoded;
      const helpers: PoolWorker[] = [];
      for (let idle = this.idleWorker(); idle && this.waiting.length === 0; idle = this.idleWorker()) {
        idle.busy = true;
        helpers.push(idle);
      }
      const windows = frameWindows(latent.frames, DECODE_WINDOWS, 1 + helpers.length);
      const decoded = windows.map(() => deferred<Float32Array>());
      let next = 0;
      /** Decodes the next window not yet taken, until none is left; a helper stops as soon as a task waits for a worker. */
      const decodeOn = async (worker: PoolWorker, helper: boolean): Promise<void> => {
        while (next < windows.length && !stopped && !(helper && this.waiting.length > 0)) {
          const index = next++;
          const window = windows[index]!;
          const data = latentWindow(latent, window);
          const request: WorkerRequest = {
            op: "decode",
            voice: worker.ref(voice),
            latent: data,
            channels: latent.channels,
            window,
            speakerId,
          };
          try {
            decoded[index]!.resolve((await worker.call(request, [data.buffer as ArrayBuffer])) as Float32Array);
          } catch (error) {
            stopped = true;
            for (const window of decoded) window.reject(error);
          }
        }
        if (helper) this.giveBack(worker);
      };
      decoding.push(decodeOn(own, false), ...helpers.map((helper) => decodeOn(helper, true)));
      const aborted = new Promise<undefined>((resolve) => {
        onAbort = () => resolve(undefined);
        signal.addEventListener("abort", onAbort, { once: true });
      });
      for (const [index, window] of windows.entries()) {
        const samples = await Promise.race([decoded[index]!.promise, aborted]);
        if (!samples) return;
        const hop = samples.length / (window.end - window.start);
        yield { samples, idDurations: index === 0 ? idFrames.map((f) => f * hop) : undefined, last: index === windows.length - 1 };
      }
    } finally {
      if (onAbort) signal.removeEventListener("abort", onAbort);
      stopped = true;
      // The worker takes another task only once the window it is decoding is done.
      await Promise.all(decoding);
      this.giveBack(own);
    }
  }

  /** Splits and self-checks the voice in one worker: how every worker is to load it. */
  async prepare(voice: PoolVoice, modelHash: string): Promise<PreparedVoice> {
    return (await this.task((worker) =>
      worker.call({ op: "prepare", voice: worker.ref(voice), modelHash, intraOpThreads: this.options.intraOpThreads }),
    )) as PreparedVoice;
  }

  /** Loads and warms the voice in every worker; rejects with the first failure. */
  async load(voice: PoolVoice, graph: VoiceGraph): Promise<void> {
    await this.everyWorker((worker) => ({ op: "load", voice: worker.ref(voice), graph, intraOpThreads: this.options.intraOpThreads }));
  }

  /** Drops the voice from every worker (each releases its session once no inference uses it). */
  async unload(key: string): Promise<void> {
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

  private async task(run: (worker: PoolWorker) => Promise<WorkerResult>): Promise<WorkerResult> {
    const worker = await this.lease();
    try {
      return await run(worker);
    } finally {
      this.giveBack(worker);
    }
  }

  /** The first idle worker, once this caller's turn comes. */
  private lease(): Promise<PoolWorker> {
    const idle = this.waiting.length === 0 ? this.idleWorker() : undefined;
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hands the worker to the next caller waiting, or marks it idle. */
  private giveBack(worker: PoolWorker): void {
    const next = this.waiting.shift();
    if (next) next(worker);
    else worker.busy = false;
  }

  private idleWorker(): PoolWorker | undefined {
    return this.workers.find((worker) => !worker.busy);
  }

  private async everyWorker(request: (worker: PoolWorker) => WorkerRequest): Promise<void> {
    const results = await Promise.allSettled(this.workers.map((worker) => worker.call(request(worker))));
    const failed = results.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
  }
}

/** A promise with its settling functions; a rejection nobody awaits is not reported as unhandled. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
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
