/**
 * sherpa-onnx-node as a benchmark peer (issue 13 item 6). sherpa runs a Piper voice once the
 * .onnx carries sherpa's metadata (model_type "vits", comment "piper", the espeak voice, ...)
 * and a tokens.txt maps each phoneme to its id. Both are made here from the voice's own files,
 * in a folder under bench/.sherpa (git-ignored): nothing is downloaded.
 *
 * The metadata is appended to a copy of the model as serialized protobuf: ModelProto's
 * `metadata_props` is field 14, a repeated StringStringEntryProto {key = 1, value = 2}, and a
 * protobuf parser merges fields appended to a message, so the copy is the same graph plus the
 * entries. bench/lib/sherpa-child.ts loads it in a process of its own.
 */
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { JsonLineProcess } from "./piper.js";

export interface SherpaVoice {
  dir: string;
  model: string;
  tokens: string;
  metadata: Record<string, string>;
}

interface PiperJson {
  espeak?: { voice?: string };
  audio: { sample_rate: number };
  num_speakers: number;
  language?: { name_english?: string };
  phoneme_id_map: Record<string, number[]>;
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

/** One length-delimited protobuf field: tag, length, bytes. */
function field(number: number, payload: Uint8Array): Uint8Array {
  return Uint8Array.from([...varint((number << 3) | 2), ...varint(payload.length), ...payload]);
}

/** ModelProto.metadata_props entries, serialized, to append to a model file. */
export function metadataBytes(entries: Record<string, string>): Uint8Array {
  const encoder = new TextEncoder();
  const parts = Object.entries(entries).map(([key, value]) =>
    field(14, Buffer.concat([field(1, encoder.encode(key)), field(2, encoder.encode(value))])),
  );
  return Buffer.concat(parts);
}

/** tokens.txt as sherpa reads it: "<symbol> <id>" per line (the space symbol is a line starting with a space). */
export function tokensText(phonemeIdMap: Record<string, number[]>): string {
  return Object.entries(phonemeIdMap)
    .filter(([symbol, ids]) => ids.length > 0 && symbol !== "\n")
    .map(([symbol, ids]) => `${symbol} ${ids[0]}\n`)
    .join("");
}

/** Writes (once per model) the copy with metadata and tokens.txt; returns their paths. */
export async function prepareSherpaVoice(modelFile: string, workDir: string): Promise<SherpaVoice> {
  const config = JSON.parse(await readFile(`${modelFile}.json`, "utf8")) as PiperJson;
  const metadata: Record<string, string> = {
    model_type: "vits",
    comment: "piper",
    language: config.language?.name_english ?? "English",
    voice: config.espeak?.voice ?? "en-us",
    has_espeak: config.espeak ? "1" : "0",
    n_speakers: String(config.num_speakers),
    sample_rate: String(config.audio.sample_rate),
  };
  const dir = join(workDir, basename(modelFile, ".onnx"));
  const model = join(dir, basename(modelFile));
  const tokens = join(dir, "tokens.txt");
  await mkdir(dir, { recursive: true });
  const stamp = join(dir, "source.json");
  const source = JSON.stringify({ size: (await readFile(modelFile)).length, metadata });
  if (!existsSync(model) || !existsSync(stamp) || (await readFile(stamp, "utf8")) !== source) {
    // Copy, append, then rename: a run stopped half-way never leaves a model without its metadata.
    const partial = `${model}.partial`;
    await copyFile(modelFile, partial);
    await writeFile(partial, metadataBytes(metadata), { flag: "a" });
    await rename(partial, model);
    await writeFile(stamp, source);
  }
  await writeFile(tokens, tokensText(config.phoneme_id_map));
  // The child reads the voice's inference settings (noise, length) from it, as Piper does.
  await copyFile(`${modelFile}.json`, `${model}.json`);
  return { dir, model, tokens, metadata };
}

export interface SherpaInfo {
  sherpa_onnx_node: string;
  sample_rate: number;
  num_speakers: number;
  num_threads: number;
  data_dir: string;
}

/** sherpa-child.ts, started on a prepared voice. */
export class SherpaPeer {
  private constructor(private readonly process: JsonLineProcess<SherpaInfo>) {}

  static async start(root: string, voice: SherpaVoice, espeakDataDir: string, threads: number): Promise<SherpaPeer> {
    const script = join(root, "bench", "lib", "sherpa-child.ts");
    return new SherpaPeer(
      await JsonLineProcess.spawn<SherpaInfo>(process.execPath, [
        "--import",
        "tsx",
        script,
        voice.model,
        voice.tokens,
        espeakDataDir,
        String(threads),
      ]),
    );
  }

  get info(): SherpaInfo {
    return this.process.info;
  }

  get pid(): number {
    return this.process.pid;
  }

  /** generate(text) and its WAV bytes, timed in the child. */
  synth(text: string): Promise<{ ms: number; samples: number }> {
    return this.process.request({ op: "synth", text });
  }

  rss(): Promise<{ rss_bytes: number; hwm_bytes: number }> {
    return this.process.request({ op: "rss" });
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}
