/**
 * A fixed set of inference worker threads, each running one task at a time. Tasks (plan,
 * infer, prepare) go to the first idle worker, first come first served; load and unload go
 * to every worker, so that all of them hold the same voices. The pool remembers which voice configs
 * each worker holds and sends a config only to a worker that lacks it.
 */
import { Worker } from "node:worker_threads";
import { NothingToSpeakError, VoiceLoadError } from "../errors/index.js";
import type { Scales, SpeechWindow, VoiceGraph } from "./inference.js";
import type { Plan } from "./plan.js";
import type { PreparedVoice } from "./voice-graph.js";
import {
  type VoiceRef,
  WORKER_READY,
  type WorkerFailure,
  type WorkerReply,
  type WorkerRequest,
  type WorkerResult,
  type WorkerWindow,
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

interface Job {
  readonly request: (worker: PoolWorker) => WorkerRequest;
  resolve(value: WorkerResult): void;
  reject(error: unknown): void;
  /** Receives an infer request's windows as the worker decodes them. */
  window?(window: SpeechWindow): void;
  /** Where the job runs, once a worker has it. */
  running?: { worker: PoolWorker; seq: number };
}

class PoolWorker {
  readonly configs = new Set<string>();
  busy = false;
  readonly ready: Promise<void>;
  private readonly pending = new Map<number, Job>();
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
    thread.on("message", (message: WorkerReply | WorkerWindow | typeof WORKER_READY) => {
      if (message === WORKER_READY) return;
      if ("window" in message) {
        this.pending.get(message.seq)?.window?.(message.window);
        return;
      }
      const job = this.pending.get(message.seq);
      this.pending.delete(message.seq);
      if (!job) return;
      if (message.ok) job.resolve(message.value);
      else job.reject(rebuild(message.failure));
    });
    thread.on("error", (error) => this.fail(error));
    thread.on("exit", (code) => this.fail(new Error(`inference worker exited (code ${code})`)));
  }

  /** A worker that died fails what it had and everything sent to it later. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const job of this.pending.values()) job.reject(this.failure);
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

  /** Sends the job; returns its number in this worker. */
  send(job: Job): number {
    const seq = this.seq++;
    if (this.failure) {
      job.reject(this.failure);
      return seq;
    }
    this.pending.set(seq, job);
    this.thread.postMessage({ seq, request: job.request(this) });
    return seq;
  }
}

export class InferencePool {
  private readonly workers: PoolWorker[];
  private readonly queue: Job[] = [];

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

  /** Tasks waiting for a free worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Phonemizes `text` for the voice in a worker. */
  async plan(voice: PoolVoice, text: string): Promise<Plan> {
    return (await this.task((worker) => ({ op: "plan", voice: worker.ref(voice), text }))) as Plan;
  }

  /**
   * One sentence's ids through the voice's model, window by window as the worker decodes
   * them; the voice must be loaded. Stopping the iteration early stops the worker after the
   * window it is decoding (or takes the request off the queue).
   */
  async *infer(voice: PoolVoice, ids: number[], scales: Scales, speakerId: number): AsyncGenerator<SpeechWindow> {
    const windows: SpeechWindow[] = [];
    let wake: (() => void) | undefined;
    let settled: { error?: unknown } | undefined;
    const job: Job = {
      request: (worker) => ({ op: "infer", voice: worker.ref(voice), ids, scales, speakerId }),
      window: (window) => {
        windows.push(window);
        wake?.();
      },
      resolve: () => {
        settled = {};
        wake?.();
      },
      reject: (error) => {
        settled = { error };
        wake?.();
      },
    };
    this.submit(job);
    try {
      for (;;) {
        const window = windows.shift();
        if (window) yield window;
        else if (settled?.error !== undefined) throw settled.error;
        else if (settled) return;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      if (!settled) this.cancel(job);
    }
  }

  /** Splits and self-checks the voice in one worker: how every worker is to load it. */
  async prepare(voice: PoolVoice, modelHash: string): Promise<PreparedVoice> {
    return (await this.task((worker) => ({
      op: "prepare",
      voice: worker.ref(voice),
      modelHash,
      intraOpThreads: this.options.intraOpThreads,
    }))) as PreparedVoice;
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
    while (this.queue.length > 0 || this.workers.some((w) => w.inFlight > 0)) await new Promise((resolve) => setTimeout(resolve, 10));
    await Promise.all(this.workers.map((w) => w.thread.terminate()));
  }

  private task(request: (worker: PoolWorker) => WorkerRequest): Promise<WorkerResult> {
    return new Promise((resolve, reject) => this.submit({ request, resolve, reject }));
  }

  private submit(job: Job): void {
    this.queue.push(job);
    this.dispatch();
  }

  /** A queued job leaves the queue; a running infer is told to stop (its worker frees once it does). */
  private cancel(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      return;
    }
    if (!job.running) return;
    const { worker, seq } = job.running;
    worker.send({ request: () => ({ op: "cancel", seq }), resolve: () => undefined, reject: () => undefined });
  }

  private dispatch(): void {
    for (const worker of this.workers) {
      if (worker.busy) continue;
      const job = this.queue.shift();
      if (!job) return;
      worker.busy = true;
      const done = (): void => {
        worker.busy = false;
        this.dispatch();
      };
      const seq = worker.send({
        ...job,
        resolve: (value) => {
          done();
          job.resolve(value);
        },
        reject: (error) => {
          done();
          job.reject(error);
        },
      });
      job.running = { worker, seq };
    }
  }

  private async everyWorker(request: (worker: PoolWorker) => WorkerRequest): Promise<void> {
    const results = await Promise.allSettled(
      this.workers.map((worker) => new Promise<WorkerResult>((resolve, reject) => worker.send({ request, resolve, reject }))),
    );
    const failed = results.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
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
