/**
 * A Piper voice's `<name>.onnx.json`, read in full and checked, so that a broken file
 * fails at load time with a message naming the file and the field.
 */
import { readFile } from "node:fs/promises";
import { VoiceLoadError } from "../errors/index.js";

export type PhonemeType = "espeak" | "text";

export interface VoiceLanguage {
  /** Piper's code, e.g. "en_US". */
  code: string;
  family: string;
  region: string;
  nameNative: string;
  nameEnglish: string;
  countryEnglish: string;
}

export interface PiperVoiceConfig {
  sampleRate: number;
  quality: string;
  espeakVoice: string;
  phonemeType: PhonemeType;
  phonemeIdMap: ReadonlyMap<string, readonly number[]>;
  numSymbols: number;
  numSpeakers: number;
  speakerIdMap: ReadonlyMap<string, number>;
  defaultSpeakerId: number;
  /** Inference defaults: generator noise, phoneme length, phoneme width noise. */
  noiseScale: number;
  lengthScale: number;
  noiseW: number;
  language: VoiceLanguage;
  dataset: string;
  /** Multi-codepoint phonemes to merge after phonemization (Piper's vowel_clusters). */
  vowelClusters: readonly (readonly string[])[];
}

// Piper's defaults when a config omits its inference section.
const DEFAULT_NOISE_SCALE = 0.667;
const DEFAULT_LENGTH_SCALE = 1.0;
const DEFAULT_NOISE_W = 0.8;

export async function readVoiceConfig(file: string): Promise<PiperVoiceConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    const problem = (error as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : `not valid JSON (${(error as Error).message})`;
    throw new VoiceLoadError(file, problem, { cause: error });
  }
  return parseVoiceConfig(raw, file);
}

export function parseVoiceConfig(raw: unknown, file: string): PiperVoiceConfig {
  const bad = (field: string, expected: string): never => {
    throw new VoiceLoadError(file, `field ${field} must be ${expected}`);
  };
  const json = isObject(raw) ? raw : bad("(root)", "an object");
  const audio = isObject(json.audio) ? json.audio : bad("audio", "an object");
  const sampleRate = positiveInt(audio.sample_rate) ?? bad("audio.sample_rate", "a positive integer");
  const phonemeType = (json.phoneme_type ?? "espeak") as string;
  if (phonemeType !== "espeak" && phonemeType !== "text") bad("phoneme_type", '"espeak" or "text"');
  const espeak = isObject(json.espeak) ? json.espeak : {};
  const espeakVoice =
    typeof espeak.voice === "string" && espeak.voice
      ? espeak.voice
      : phonemeType === "espeak"
        ? bad("espeak.voice", 'a voice name such as "en-us"')
        : "";

  const idMapRaw = isObject(json.phoneme_id_map) ? json.phoneme_id_map : bad("phoneme_id_map", "an object of phoneme → [ids]");
  const phonemeIdMap = new Map<string, number[]>();
  for (const [phoneme, ids] of Object.entries(idMapRaw)) {
    if (!Array.isArray(ids) || ids.some((id) => !Number.isInteger(id) || id < 0))
      bad(`phoneme_id_map[${JSON.stringify(phoneme)}]`, "an array of ids");
    phonemeIdMap.set(phoneme, ids as number[]);
  }
  for (const required of ["^", "$", "_"]) {
    if (!phonemeIdMap.has(required)) bad(`phoneme_id_map[${JSON.stringify(required)}]`, "present (BOS ^, EOS $ and PAD _ are required)");
  }
  const maxId = Math.max(...[...phonemeIdMap.values()].flat());
  const numSymbols = positiveInt(json.num_symbols) ?? maxId + 1;
  if (maxId >= numSymbols) bad("num_symbols", `greater than every id in phoneme_id_map (largest is ${maxId})`);

  const numSpeakers = positiveInt(json.num_speakers) ?? 1;
  const speakerIdMap = new Map<string, number>();
  for (const [name, id] of Object.entries(isObject(json.speaker_id_map) ? json.speaker_id_map : {})) {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= numSpeakers)
      bad(`speaker_id_map[${JSON.stringify(name)}]`, `an id from 0 to ${numSpeakers - 1}`);
    speakerIdMap.set(name, id as number);
  }

  const inference = isObject(json.inference) ? json.inference : {};
  const language = isObject(json.language) ? json.language : {};
  const str = (value: unknown) => (typeof value === "string" ? value : "");
  const clusters = Array.isArray(json.vowel_clusters) ? json.vowel_clusters : [];

  return {
    sampleRate,
    quality: str(audio.quality),
    espeakVoice,
    phonemeType: phonemeType as PhonemeType,
    phonemeIdMap,
    numSymbols,
    numSpeakers,
    speakerIdMap,
    defaultSpeakerId: positiveInt(json.default_speaker_id, true) ?? 0,
    noiseScale: finite(inference.noise_scale) ?? DEFAULT_NOISE_SCALE,
    lengthScale: finite(inference.length_scale) ?? DEFAULT_LENGTH_SCALE,
    noiseW: finite(inference.noise_w) ?? DEFAULT_NOISE_W,
    language: {
      code: str(language.code),
      family: str(language.family),
      region: str(language.region),
      nameNative: str(language.name_native),
      nameEnglish: str(language.name_english),
      countryEnglish: str(language.country_english),
    },
    dataset: str(json.dataset),
    vowelClusters: clusters.filter((c): c is string[] => Array.isArray(c) && c.every((p) => typeof p === "string")),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function positiveInt(value: unknown, allowZero = false): number | undefined {
  return Number.isInteger(value) && ((value as number) > 0 || (allowZero && value === 0)) ? (value as number) : undefined;
}

function finite(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}
