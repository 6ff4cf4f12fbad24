/**
 * The installed voices, as files: MODELS_DIR holds `<id>.onnx` + `<id>.onnx.json`. The
 * catalog knows each voice's config and the SHA-256 of its model file without loading
 * anything, so a cache key can be made for any voice at the cost of a stat(). The hash is
 * memoized by the file's size and mtime: a replaced file is hashed again once.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import { type PiperVoiceConfig, parseVoiceConfig } from "../engine/index.js";
import { InvalidArgumentError, VoiceLoadError, VoiceNotFoundError } from "../errors/index.js";

/** Voice ids are file names: letters, digits, "_", "-" and "." but never a path. */
const VOICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** One voice as its files are now. */
export interface CatalogVoice {
  readonly id: string;
  readonly modelFile: string;
  readonly configFile: string;
  /** The parsed .onnx.json and the JSON itself (the inference workers parse their own copy). */
  readonly config: PiperVoiceConfig;
  readonly configJson: unknown;
  readonly sizeBytes: number;
  /** SHA-256 (hex) of the model file: part of every cache key, so a new model orphans old audio. */
  readonly modelHash: string;
  /** size:mtime of the config file: changes whenever it does. */
  readonly configVersion: string;
}

interface Scanned {
  id: string;
  modelFile: string;
  configFile: string;
  config: PiperVoiceConfig;
  configJson: unknown;
  /** size:mtime of the config file as parsed. */
  configVersion: string;
  /** Model file size at the scan. */
  sizeBytes: number;
}

export class VoiceCatalog {
  private scanned = new Map<string, Scanned>();
  /** Model file → its hash, for the size:mtime it had when hashed. */
  private readonly hashes = new Map<string, { version: string; hash: Promise<string> }>();

  constructor(
    private readonly modelsDir: string,
    private readonly logger: Logger,
  ) {}

  /** Re-reads MODELS_DIR. A voice whose config is missing or invalid is logged and left out. */
  async scan(): Promise<void> {
    const dir = resolve(this.modelsDir);
    const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return [] as string[];
      throw error;
    });
    const found = new Map<string, Scanned>();
    for (const name of names.filter((n) => n.endsWith(".onnx")).sort()) {
      const id = name.slice(0, -".onnx".length);
      const modelFile = join(dir, name);
      try {
        found.set(id, await this.readConfig(id, modelFile));
      } catch (error) {
        this.logger.warn({ voice: id, err: (error as Error).message }, "voice skipped: its config is missing or invalid");
      }
    }
    this.scanned = found;
  }

  /** The installed voices as of the last scan, with their configs and model sizes. */
  list(): readonly { id: string; config: PiperVoiceConfig; sizeBytes: number }[] {
    return [...this.scanned.values()];
  }

  /**
   * The voice as its files are now: its config re-read if the file changed, its model
   * hashed if the model changed since it was last hashed. Loads nothing.
   */
  async voice(id: string): Promise<CatalogVoice> {
    if (!VOICE_ID.test(id)) {
      throw new InvalidArgumentError(
        "config.voice",
        `${JSON.stringify(id)} is not a voice id (letters, digits, "_", "-", "." only, at most 128 characters)`,
      );
    }
    if (!this.scanned.has(id)) await this.scan();
    let scanned = this.scanned.get(id);
    if (!scanned) throw new VoiceNotFoundError(id, [...this.scanned.keys()]);
    const [model, configInfo] = await Promise.all([fileVersion(scanned.modelFile), fileVersion(scanned.configFile)]);
    if (configInfo.version !== scanned.configVersion) {
      scanned = await this.readConfig(id, scanned.modelFile);
      this.scanned.set(id, scanned);
    }
    return {
      id,
      modelFile: scanned.modelFile,
      configFile: scanned.configFile,
      config: scanned.config,
      configJson: scanned.configJson,
      sizeBytes: model.size,
      modelHash: await this.hashOf(scanned.modelFile, model.version),
      configVersion: scanned.configVersion,
    };
  }

  private async readConfig(id: string, modelFile: string): Promise<Scanned> {
    const configFile = `${modelFile}.json`;
    const [{ version }, model] = await Promise.all([fileVersion(configFile), fileVersion(modelFile)]);
    const text = await readFile(configFile, "utf8").catch((error: unknown) => {
      throw new VoiceLoadError(configFile, "missing", { cause: error });
    });
    let configJson: unknown;
    try {
      configJson = JSON.parse(text);
    } catch (error) {
      throw new VoiceLoadError(configFile, "not valid JSON", { cause: error });
    }
    return {
      id,
      modelFile,
      configFile,
      configJson,
      config: parseVoiceConfig(configJson, configFile),
      configVersion: version,
      sizeBytes: model.size,
    };
  }

  private hashOf(modelFile: string, version: string): Promise<string> {
    const known = this.hashes.get(modelFile);
    if (known?.version === version) return known.hash;
    const hash = sha256File(modelFile);
    this.hashes.set(modelFile, { version, hash });
    hash.catch(() => {
      if (this.hashes.get(modelFile)?.hash === hash) this.hashes.delete(modelFile);
    });
    return hash;
  }
}

async function fileVersion(file: string): Promise<{ size: number; version: string }> {
  const info = await stat(file).catch((error: unknown) => {
    throw new VoiceLoadError(file, "missing", { cause: error });
  });
  return { size: info.size, version: `${info.size}:${info.mtimeMs}` };
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
