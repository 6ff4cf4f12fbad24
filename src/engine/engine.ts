/**
 * The engine: phoneme plans and audio for a voice, in the inference workers. It is the one
 * owner of loaded voices: at most MAX_LOADED_VOICES, the least recently used unloaded
 * first (never one in use), each loaded in every worker.
 *
 * A voice whose model or config changes on disk is loaded again into new sessions in the
 * background while the old ones keep serving; only once the new ones are warm do they take
 * over. If the new files do not load, the old sessions go on serving, the failure is logged
 * once per file version, and status() reports the voice as degraded.
 */
import type { Logger } from "pino";
import { AbortedError, ServiceError, VoiceLoadError } from "../errors/index.js";
import { InferencePool } from "./inference-pool.js";
import type { Scales, SpeechWindow } from "./inference.js";
import type { Plan, PlannedSentence } from "./plan.js";
import type { PiperVoiceConfig } from "./voice-config.js";
import type { PreparedVoice } from "./voice-graph.js";

export interface EngineOptions {
  /** Inference worker threads (MAX_CONCURRENT_REQUESTS). */
  threads: number;
  /** onnxruntime threads inside one inference (ONNX_INTRA_OP_THREADS). */
  intraOpThreads: number;
  /** MAX_LOADED_VOICES. */
  maxLoadedVoices: number;
  logger: Logger;
}

/** A voice's files as they are now (the voice catalog's view of them). */
export interface VoiceFiles {
  readonly id: string;
  readonly modelFile: string;
  readonly configFile: string;
  readonly config: PiperVoiceConfig;
  readonly configJson: unknown;
  readonly modelHash: string;
  /** Changes whenever the config file does. */
  readonly configVersion: string;
}

/** The model that speaks for a voice: what cache keys, plans and inference use. */
export interface VoiceModel {
  readonly id: string;
  /** Identifies this model and config version in the workers. */
  readonly key: string;
  readonly modelFile: string;
  readonly configFile: string;
  readonly config: PiperVoiceConfig;
  readonly configJson: unknown;
  readonly modelHash: string;
}

export interface SpeechSettings {
  scales: Scales;
  speakerId: number;
}

/** A voice that is not as its files say. */
export interface VoiceProblem {
  voice: string;
  /** The file's name and the kind of problem; the server log has the path and the library's message. */
  problem: string;
  /** True while sessions loaded before the files changed still speak for it. */
  serving: boolean;
}

/** A window of one sentence's samples, as the engine yields them. */
export interface SentenceWindow extends SpeechWindow {
  sentence: PlannedSentence;
}

export interface EngineStatus {
  /** Ids of the loaded voices, sorted. */
  loaded: string[];
  degraded: VoiceProblem[];
}

interface Loaded {
  model: VoiceModel;
  /** Settles once every worker holds the model; rejected when it did not load. */
  ready: Promise<void>;
}

export class Engine {
  private readonly pool: InferencePool;
  /** Loaded (or loading) voices by id, least recently used first. */
  private readonly voices = new Map<string, Loaded>();
  /** Syntheses using each model key now: a key in use is never unloaded. */
  private readonly users = new Map<string, number>();
  /** Keys no longer the voice's model, unloaded once their last user is done. */
  private readonly retired = new Set<string>();
  /** Reloads under way, by the new model's key. */
  private readonly reloads = new Map<string, Promise<void>>();
  /** The last load failure of each voice, with the key that failed. */
  // Set by close(): a load cut short by the workers stopping is not the voice's failure.
  private closing = false;
  private readonly failures = new Map<string, { key: string; problem: VoiceProblem; error: unknown }>();
  private readonly listeners = new Set<() => void>();
  /** How each model version runs (split or whole), decided once per process. */
  private readonly prepared = new Map<string, Promise<PreparedVoice>>();

  constructor(private readonly options: EngineOptions) {
    this.pool = new InferencePool({ threads: options.threads, intraOpThreads: options.intraOpThreads });
  }

  /**
   * The model that speaks for the voice now, without loading anything: the loaded one, or
   * the files' one when the voice is not loaded. When the files have changed since the voice
   * was loaded, the new version starts loading in the background and the old one answers.
   */
  model(files: VoiceFiles): VoiceModel {
    const current = modelOf(files);
    const loaded = this.voices.get(files.id);
    const failure = this.failures.get(files.id);
    if (failure && failure.key !== current.key) this.clearFailure(files.id);
    if (!loaded || loaded.model.key === current.key) return current;
    this.reload(loaded, current);
    return loaded.model;
  }

  /** Phonemizes the text for the model's voice, in a worker. */
  plan(model: VoiceModel, text: string): Promise<Plan> {
    return this.pool.plan(model, text);
  }

  /**
   * Synthesizes the plan sentence by sentence, loading the voice first if it is not loaded,
   * and yields each sentence's samples window by window as soon as they are decoded. Stops
   * at the next window once `signal` aborts (or the caller stops iterating), so a cancelled
   * call leaves no work behind. `early`: the caller sends each window on as it comes, so a
   * sentence's first window is small (time to first audio).
   */
  async *synthesize(
    model: VoiceModel,
    plan: Plan,
    settings: SpeechSettings,
    signal: AbortSignal,
    early = false,
  ): AsyncGenerator<SentenceWindow> {
    const using = await this.use(model);
    try {
      for (const sentence of plan.sentences) {
        throwIfAborted(signal);
        for await (const window of this.pool.infer(using, sentence.ids, settings.scales, settings.speakerId, signal, early)) {
          throwIfAborted(signal);
          yield { sentence, ...window };
        }
        // The pool stops short once the signal aborts: what was yielded is not the sentence.
        throwIfAborted(signal);
      }
    } finally {
      this.release(using);
    }
  }

  /** Loads the voice now (start-up) and waits until it speaks. */
  async load(files: VoiceFiles): Promise<void> {
    this.release(await this.use(this.model(files)));
  }

  /** Whether the voice can speak: it is loaded, or it is not known to fail to load. */
  canSpeak(id: string): boolean {
    const failure = this.failures.get(id);
    return failure === undefined || failure.problem.serving;
  }

  isLoaded(id: string): boolean {
    return this.voices.has(id);
  }

  status(): EngineStatus {
    return {
      loaded: [...this.voices.keys()].sort(),
      degraded: [...this.failures.values()].map((failure) => failure.problem).sort((a, b) => a.voice.localeCompare(b.voice)),
    };
  }

  /** Calls `listener` whenever a voice is loaded, unloaded, degraded or recovered. */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Lets running inferences finish, then stops the workers. */
  close(): Promise<void> {
    this.closing = true;
    return this.pool.close();
  }

  /** The model to synthesize with, loaded and counted as in use until release(). */
  private async use(model: VoiceModel): Promise<VoiceModel> {
    let loaded = this.voices.get(model.id);
    // A model retired by a reload since the request chose it still speaks until it is unloaded.
    const using = loaded && loaded.model.key !== model.key && this.retired.has(model.key) ? model : (loaded?.model ?? model);
    if (!loaded) {
      // Files known not to load are not tried again on every request, only once they change.
      const failed = this.failures.get(model.id);
      if (failed?.key === model.key && failed.error instanceof VoiceLoadError) throw failed.error;
      loaded = { model, ready: this.loadEverywhere(model) };
      this.voices.set(model.id, loaded);
      this.settleLoad(loaded);
    } else {
      // Most recently used last.
      this.voices.delete(model.id);
      this.voices.set(model.id, loaded);
    }
    this.users.set(using.key, (this.users.get(using.key) ?? 0) + 1);
    try {
      if (using === loaded.model) await loaded.ready;
    } catch (error) {
      this.release(using);
      throw error;
    }
    return using;
  }

  /**
   * Splits the model (or finds its parts) and self-checks them in one worker, the first
   * time this version loads, then loads it in every worker the way that decided.
   */
  private async loadEverywhere(model: VoiceModel): Promise<void> {
    let preparing = this.prepared.get(model.key);
    if (!preparing) {
      preparing = this.pool.prepare(model, model.modelHash);
      this.prepared.set(model.key, preparing);
      preparing.then(
        ({ wholeBecause }) => {
          if (wholeBecause)
            this.options.logger.warn({ voice: model.id, reason: wholeBecause }, "voice runs as one model, without windowed decoding");
        },
        // A failed preparation (the worker died) is tried again on the next load.
        () => this.prepared.delete(model.key),
      );
    }
    await this.pool.load(model, (await preparing).graph);
  }

  private release(model: VoiceModel): void {
    const left = (this.users.get(model.key) ?? 1) - 1;
    if (left > 0) {
      this.users.set(model.key, left);
      return;
    }
    this.users.delete(model.key);
    if (this.retired.delete(model.key)) void this.pool.unload(model.key);
    this.evict();
  }

  private settleLoad(loaded: Loaded): void {
    const { model } = loaded;
    loaded.ready.then(
      () => {
        this.clearFailure(model.id);
        this.options.logger.info({ voice: model.id }, "voice loaded and warmed");
        this.evict();
        this.changed();
      },
      (error: unknown) => {
        if (this.voices.get(model.id) === loaded) this.voices.delete(model.id);
        void this.pool.unload(model.key);
        this.fail(model, error, false);
      },
    );
  }

  /** Loads `next` beside the voice's current model; it takes over only once it speaks. */
  private reload(loaded: Loaded, next: VoiceModel): void {
    if (this.reloads.has(next.key) || this.failures.get(next.id)?.key === next.key) return;
    const reloading = loaded.ready
      .then(() => this.loadEverywhere(next))
      .then(
        () => {
          if (this.voices.get(next.id) !== loaded) {
            void this.pool.unload(next.key);
            return;
          }
          const old = loaded.model;
          this.voices.set(next.id, { model: next, ready: Promise.resolve() });
          this.clearFailure(next.id);
          this.retire(old.key);
          this.options.logger.info({ voice: next.id }, "voice reloaded: its files changed on disk");
          this.changed();
        },
        (error: unknown) => {
          void this.pool.unload(next.key);
          this.fail(next, error, this.voices.get(next.id) === loaded);
        },
      )
      .finally(() => this.reloads.delete(next.key));
    this.reloads.set(next.key, reloading);
  }

  private retire(key: string): void {
    if (this.users.has(key)) this.retired.add(key);
    else void this.pool.unload(key);
  }

  /** Unloads the least recently used voices nobody is using, down to MAX_LOADED_VOICES. */
  private evict(): void {
    let excess = this.voices.size - this.options.maxLoadedVoices;
    for (const [id, loaded] of this.voices) {
      if (excess <= 0) break;
      if (this.users.has(loaded.model.key)) continue;
      this.voices.delete(id);
      void loaded.ready.then(() => this.pool.unload(loaded.model.key)).catch(() => undefined);
      excess--;
      this.options.logger.info({ voice: id }, "voice unloaded (MAX_LOADED_VOICES)");
      this.changed();
    }
  }

  private fail(model: VoiceModel, error: unknown, serving: boolean): void {
    if (this.closing) return;
    // Health is open to every caller: it gets the file's name and the kind of problem, the log the rest.
    const problem = error instanceof ServiceError ? error.message : "the voice does not load (the server log has the details)";
    const known = this.failures.get(model.id);
    if (known?.key === model.key && known.problem.serving === serving) return;
    this.failures.set(model.id, { key: model.key, problem: { voice: model.id, problem, serving }, error });
    this.options.logger.error(
      { voice: model.id, err: error, serving },
      serving ? "voice files changed on disk and do not load; the sessions loaded before keep serving" : "voice does not load",
    );
    this.changed();
  }

  private clearFailure(id: string): void {
    if (this.failures.delete(id)) this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

function modelOf(files: VoiceFiles): VoiceModel {
  const { id, modelFile, configFile, config, configJson, modelHash, configVersion } = files;
  return { id, key: `${id}#${modelHash}#${configVersion}`, modelFile, configFile, config, configJson, modelHash };
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw AbortedError.of(signal);
}
