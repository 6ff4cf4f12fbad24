/**
 * The installed voices: scans MODELS_DIR for `<id>.onnx` + `<id>.onnx.json`, loads voices on
 * first use (sessions in every inference worker, warmed), and keeps at most
 * MAX_LOADED_VOICES loaded, dropping the least recently used.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import { LRUCache } from "lru-cache";
import { InvalidArgumentError, VoiceLoadError, VoiceNotFoundError } from "../engine/errors.js";
import { planSpeech, type EngineVoice } from "../engine/engine.js";
import type { InferencePool } from "../engine/inference-pool.js";
import { parseVoiceConfig, type PiperVoiceConfig } from "../engine/voice-config.js";

/** Voice ids are file names: letters, digits, "_", "-" and "." but never a path. */
const VOICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export interface InstalledVoice {
  id: string;
  modelFile: string;
  configFile: string;
  config: PiperVoiceConfig;
  sizeBytes: number;
}

export interface LoadedVoice extends EngineVoice {
  sizeBytes: number;
}

interface FileIdentity {
  size: number;
  mtimeMs: number;
}

interface LoadedEntry {
  voice: LoadedVoice;
  identity: FileIdentity;
}

export class VoiceRegistry {
  private installed = new Map<string, InstalledVoice>();
  private readonly loaded: LRUCache<string, Promise<LoadedEntry>>;

  constructor(
    private readonly modelsDir: string,
    private readonly pool: InferencePool,
    maxLoadedVoices: number,
    private readonly logger: Logger,
  ) {
    this.loaded = new LRUCache({ max: maxLoadedVoices });
  }

  /** Re-reads MODELS_DIR. A voice whose config is broken is logged and left out. */
  async scan(): Promise<void> {
    const dir = resolve(this.modelsDir);
    const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return [] as string[];
      throw error;
    });
    const found = new Map<string, InstalledVoice>();
    for (const name of names.filter((n) => n.endsWith(".onnx")).sort()) {
      const id = name.slice(0, -".onnx".length);
      const modelFile = join(dir, name);
      const configFile = `${modelFile}.json`;
      try {
        const config = parseVoiceConfig(JSON.parse(await readFile(configFile, "utf8")), configFile);
        found.set(id, { id, modelFile, configFile, config, sizeBytes: (await stat(modelFile)).size });
      } catch (error) {
        this.logger.warn({ voice: id, err: (error as Error).message }, "voice skipped: its config is missing or invalid");
      }
    }
    this.installed = found;
  }

  list(): InstalledVoice[] {
    return [...this.installed.values()];
  }

  isLoaded(id: string): boolean {
    return this.loaded.has(id);
  }

  loadedIds(): string[] {
    return [...this.loaded.keys()].sort();
  }

  /**
   * The voice ready for synthesis, loading and warming it first if needed. A model file
   * replaced on disk since it was loaded is loaded again (new hash, new sessions).
   */
  async get(id: string): Promise<LoadedVoice> {
    if (!VOICE_ID.test(id)) {
      throw new InvalidArgumentError(
        "config.voice",
        `config.voice: ${JSON.stringify(id)} is not a voice id (letters, digits, "_", "-", "." only, at most 128 characters)`,
      );
    }
    if (!this.installed.has(id)) await this.scan();
    const installed = this.installed.get(id);
    if (!installed) throw new VoiceNotFoundError(id, [...this.installed.keys()]);

    const cached = this.loaded.get(id);
    if (cached) {
      const entry = await cached.catch(() => undefined);
      if (entry && sameFile(entry.identity, await identity(installed.modelFile))) return entry.voice;
      this.loaded.delete(id);
    }
    const loading = this.load(installed);
    this.loaded.set(id, loading);
    loading.catch(() => {
      if (this.loaded.get(id) === loading) this.loaded.delete(id);
    });
    return (await loading).voice;
  }

  private async load(installed: InstalledVoice): Promise<LoadedEntry> {
    const started = performance.now();
    const before = await identity(installed.modelFile);
    // The config may have changed since the scan: read it again with the model.
    const configJson: unknown = JSON.parse(
      await readFile(installed.configFile, "utf8").catch((error) => {
        throw new VoiceLoadError(installed.configFile, "missing", { cause: error });
      }),
    );
    const config = parseVoiceConfig(configJson, installed.configFile);
    const voice: LoadedVoice = {
      id: installed.id,
      modelFile: installed.modelFile,
      configFile: installed.configFile,
      configJson,
      config,
      modelHash: await sha256File(installed.modelFile),
      sizeBytes: before.size,
    };
    let warmup: number[];
    try {
      warmup = planSpeech("Ready.", config).pieces[0]!.ids;
    } catch (error) {
      throw new VoiceLoadError(
        installed.configFile,
        `espeak.voice ${JSON.stringify(config.espeakVoice)} cannot phonemize: ${(error as Error).message}`,
        { cause: error },
      );
    }
    await this.pool.warm(voice, warmup, { noiseScale: config.noiseScale, lengthScale: config.lengthScale, noiseW: config.noiseW });
    this.logger.info({ voice: installed.id, ms: Math.round(performance.now() - started) }, "voice loaded and warmed");
    return { voice, identity: before };
  }
}

async function identity(file: string): Promise<FileIdentity> {
  const info = await stat(file).catch((error) => {
    throw new VoiceLoadError(file, "missing", { cause: error });
  });
  return { size: info.size, mtimeMs: info.mtimeMs };
}

function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
