/**
 * A fixed set of inference worker threads, each running one task at a time. Tasks (plan,
 * infer) go to the first idle worker, first come first served; load and unload go to every
 * worker, so that all of them hold the same voices. The pool remembers which voice configs
 * each worker holds and sends a config only to a worker that lacks it.
 */
import { Worker } from "node:worker_threads";
import { NothingToSpeakError, VoiceLoadError } from "../errors/index.js";
import type { Scales } from "./inference.js";
import type { Plan } from "./plan.js";
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

interface Job {
  readonly request: (worker: PoolWorker) => WorkerRequest;
  resolve(value: WorkerResult): void;
  reject(error: unknown): void;
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
    thread.on("message", (message: WorkerReply | typeof WORKER_READY) => {
      if (message === WORKER_READY) return;
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

  send(job: Job): void {
    if (this.failure) {
      job.reject(this.failure);
      return;
    }
    const seq = this.seq++;
    this.pending.set(seq, job);
    this.thread.postMessage({ seq, request: job.request(this) });
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

  /** One piece's ids through the voice's model; the voice must be loaded. */
  async infer(voice: PoolVoice, ids: number[], scales: Scales, speakerId: number): Promise<Float32Array> {
    return (await this.task((worker) => ({ op: "infer", voice: worker.ref(voice), ids, scales, speakerId }))) as Float32Array;
  }

  /** Loads and warms the voice in every worker; rejects with the first failure. */
  async load(voice: PoolVoice): Promise<void> {
    await this.everyWorker((worker) => ({ op: "load", voice: worker.ref(voice), intraOpThreads: this.options.intraOpThreads }));
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
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
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
      worker.send({
        request: job.request,
        resolve: (value) => {
          done();
          job.resolve(value);
        },
        reject: (error) => {
          done();
          job.reject(error);
        },
      });
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
