/** A fixed pool of inference worker threads (piscina), one task per worker at a time. */
import { Piscina } from "piscina";
import { VoiceLoadError } from "./errors.js";
import type { InferenceResult, InferenceTask } from "./inference-worker.js";
import type { Scales } from "./inference.js";

// How long close() waits for workers still loading onnxruntime (seconds here on 2 cores).
const LOAD_WAIT_LIMIT_MS = 60_000;

const INFERENCE_NICE_INCREMENT = 10;

/** What a worker posts once its module has loaded (see close()). */
export const WORKER_LOADED = "aetheros-tts inference worker loaded";

export interface InferencePoolOptions {
  threads: number;
  intraOpThreads: number;
  maxLoadedVoices: number;
}

export interface VoiceModel {
  modelFile: string;
  /** SHA-256 of the model file: workers key sessions by it, so a replaced file reloads. */
  modelHash: string;
  configFile: string;
  configJson: unknown;
}

export class InferencePool {
  private readonly piscina: Piscina;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Resolves once every worker has loaded its module (and onnxruntime's binding). */
  private readonly loaded: Promise<void>;

  constructor(private readonly options: InferencePoolOptions) {
    const workerUrl = new URL(`./inference-worker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);
    this.piscina = new Piscina({
      filename: workerUrl.href,
      minThreads: options.threads,
      maxThreads: options.threads,
      concurrentTasksPerWorker: 1,
      // Inference runs at a lower CPU priority than the event loop (nice(2) per worker thread,
      // through @napi-rs/nice), so with every core busy synthesizing, health checks and cache
      // hits still get the CPU first: health p99 15-23 ms instead of 24-40 ms in the
      // reliability suite's event-loop run here. Idle cores still go to inference.
      niceIncrement: INFERENCE_NICE_INCREMENT,
      idleTimeout: Number.POSITIVE_INFINITY,
      // TypeScript sources (npm start, vitest) need the tsx loader inside the workers too.
      execArgv: workerUrl.pathname.endsWith(".ts") ? ["--import", "tsx"] : [],
    });
    this.loaded = new Promise((resolve) => {
      let workers = 0;
      this.piscina.on("message", (message: unknown) => {
        if (message === WORKER_LOADED && ++workers === options.threads) resolve();
      });
    });
  }

  get threads(): number {
    return this.options.threads;
  }

  /** Tasks waiting for a free worker. */
  get queued(): number {
    return this.piscina.queueSize;
  }

  async run(model: VoiceModel, ids: number[], scales: Scales, speakerId: number): Promise<Float32Array> {
    const task: InferenceTask = {
      ...model,
      ids,
      scales,
      speakerId,
      intraOpThreads: this.options.intraOpThreads,
      maxLoadedVoices: this.options.maxLoadedVoices,
    };
    const running = this.piscina.run(task) as Promise<InferenceResult>;
    this.inFlight.add(running);
    const result = await running.finally(() => this.inFlight.delete(running));
    if (!(result instanceof Float32Array)) throw new VoiceLoadError(result.loadError.file, result.loadError.problem);
    return result;
  }

  /**
   * Loads the model in every worker and runs one short inference in each, so the first
   * real request meets a warm session. Concurrent tasks land on distinct idle workers.
   */
  async warm(model: VoiceModel, ids: number[], scales: Scales): Promise<void> {
    await Promise.all(Array.from({ length: this.options.threads }, () => this.run(model, ids, scales, 0)));
  }

  /**
   * Lets every worker finish loading and every submitted inference finish, then stops the
   * workers: terminating a worker while onnxruntime is loading or running in it aborts the
   * whole process ("terminate called after throwing an instance of 'Napi::Error'").
   */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    // A worker whose module failed to load never reports; do not wait for it forever.
    const loadLimit = new Promise<void>((resolve) => (timer = setTimeout(resolve, LOAD_WAIT_LIMIT_MS)));
    await Promise.race([this.loaded, loadLimit]);
    clearTimeout(timer);
    await Promise.allSettled([...this.inFlight]);
    await this.piscina.close();
  }
}
