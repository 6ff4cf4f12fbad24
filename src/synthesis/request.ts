/**
 * Request validation: a SynthesizeRequest or SynthesizeStreamRequest becomes a SpeechRequest
 * with every range checked and every default applied. Errors name the field, the value and
 * what is allowed.
 */
import {
  AudioEncoding,
  AudioEncodingSchema,
  Normalization,
  NormalizationSchema,
  type SynthesisConfig,
} from "../../gen/aetheros/tts/v1/tts_pb.js";
import { OUTPUT_ENCODINGS, type OutputEncoding, outputEncoding } from "../audio/index.js";
import { InvalidArgumentError } from "../errors/index.js";
import type { InlinePronunciation } from "../lexicons/index.js";

export const SAMPLE_RATES = [8000, 16000, 22050, 24000, 44100, 48000] as const;

export interface SpeechRequest {
  text: string;
  /** An SSML document spoken instead of `text` ("" when the request has text). */
  ssml: string;
  /** Server lexicons by name; empty: DEFAULT_LEXICONS. */
  lexicons: string[];
  pronunciations: InlinePronunciation[];
  /** Empty: the default voice, or the first voice of `language`. */
  voice: string;
  language: string;
  speaker: string;
  encoding: OutputEncoding;
  /** 0 keeps the voice's native rate. */
  sampleRate: number;
  speed: number;
  pitch: number;
  volume: number;
  /**
   * Each sentence scaled to a full-scale peak (Piper's normalize_audio): its audio waits for
   * its last sample. Off: the model's own level, streamed as decoded.
   */
  peakNormalized: boolean;
  /** Undefined: the voice's own default. */
  noiseScale: number | undefined;
  noiseW: number | undefined;
  sentenceSilence: number;
  useCache: boolean;
  wordTimestamps: boolean;
  /** Streams: chunks of whole frames this long (headerless encodings only); 0: as produced. */
  frameMs: number;
}

export interface RequestLimits {
  maxTextLength: number;
}

export function validateRequest(text: string, config: SynthesisConfig | undefined, limits: RequestLimits, ssml = ""): SpeechRequest {
  if (ssml !== "") {
    if (text !== "") throw new InvalidArgumentError("text", "set text or ssml, not both");
    checkTextLength("ssml", ssml, limits);
    return { ...validateConfig(config), ssml };
  }
  if (text.trim().length === 0) throw new InvalidArgumentError("text", "must not be empty or only whitespace");
  checkTextLength("text", text, limits);
  return { ...validateConfig(config), text };
}

/** Throws when `text` has more characters (code points) than MAX_TEXT_LENGTH. */
export function checkTextLength(field: string, text: string, limits: RequestLimits): void {
  const length = [...text].length;
  if (length > limits.maxTextLength) {
    throw new InvalidArgumentError(field, `${length} characters is too long; allowed 1 to ${limits.maxTextLength} (MAX_TEXT_LENGTH)`);
  }
}

/** A SynthesisConfig with every range checked and every default applied; the text is left empty. */
export function validateConfig(config: SynthesisConfig | undefined): SpeechRequest {
  const encoding = outputEncoding(config?.encoding ?? AudioEncoding.UNSPECIFIED);
  if (encoding === undefined) {
    const allowed = OUTPUT_ENCODINGS.map((value) => AudioEncodingSchema.value[value]!.name).join(", ");
    throw new InvalidArgumentError("config.encoding", `${config?.encoding} is not in enum AudioEncoding; allowed ${allowed}`);
  }
  const sampleRate = config?.sampleRate ?? 0;
  if (sampleRate !== 0 && !(SAMPLE_RATES as readonly number[]).includes(sampleRate)) {
    throw new InvalidArgumentError(
      "config.sample_rate",
      `${sampleRate} Hz is not supported; allowed ${SAMPLE_RATES.join(", ")} (or 0 for the voice's rate)`,
    );
  }
  return {
    text: "",
    ssml: "",
    lexicons: [...(config?.lexicons ?? [])],
    pronunciations: (config?.customPronunciations ?? []).map(({ phrase, pronunciation }) => ({
      phrase,
      ...(pronunciation.case === "ipa" && { ipa: pronunciation.value }),
      ...(pronunciation.case === "alias" && { alias: pronunciation.value }),
    })),
    voice: config?.voice ?? "",
    language: config?.language ?? "",
    speaker: config?.speaker ?? "",
    encoding,
    sampleRate,
    speed: inRange("config.speed", config?.speed, 0.5, 2, 1),
    pitch: inRange("config.pitch", config?.pitch, 0.5, 2, 1),
    volume: inRange("config.volume", config?.volume, 0, 4, 1),
    peakNormalized: peakNormalized(config?.normalization ?? Normalization.UNSPECIFIED),
    noiseScale: config?.noiseScale === undefined ? undefined : inRange("config.noise_scale", config.noiseScale, 0, 2, 0),
    noiseW: config?.noiseW === undefined ? undefined : inRange("config.noise_w", config.noiseW, 0, 2, 0),
    sentenceSilence: inRange("config.sentence_silence", config?.sentenceSilence, 0, 5, 0),
    useCache: config?.useCache ?? true,
    wordTimestamps: config?.enableWordTimestamps ?? false,
    frameMs: frameMs(config?.frameMs ?? 0, encoding),
  };
}

function peakNormalized(value: Normalization): boolean {
  if (value === Normalization.SENTENCE_PEAK) return true;
  if (value === Normalization.UNSPECIFIED || value === Normalization.NONE) return false;
  const allowed = NormalizationSchema.values.map((v) => v.name).join(", ");
  throw new InvalidArgumentError("config.normalization", `${value} is not in enum Normalization; allowed ${allowed}`);
}

/** Frames are cut from bare samples: a header or a codec's frames would not fall on them. */
const FRAMED_ENCODINGS: readonly OutputEncoding[] = [AudioEncoding.PCM, AudioEncoding.MULAW, AudioEncoding.ALAW];

function frameMs(value: number, encoding: OutputEncoding): number {
  if (value === 0) return 0;
  if (value > 1000) throw new InvalidArgumentError("config.frame_ms", `${value} is out of range; allowed 0 or 1 to 1000`);
  if (!FRAMED_ENCODINGS.includes(encoding)) {
    const allowed = FRAMED_ENCODINGS.map((e) => AudioEncodingSchema.value[e]!.name).join(", ");
    throw new InvalidArgumentError(
      "config.frame_ms",
      `framing applies to ${allowed}, not ${AudioEncodingSchema.value[encoding]!.name}; leave it 0 for other encodings`,
    );
  }
  return value;
}

function inRange(field: string, value: number | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < min || value > max) {
    const shown = Number.isFinite(value) ? String(Math.round(value * 1000) / 1000) : String(value);
    throw new InvalidArgumentError(field, `${shown} is out of range; allowed ${min.toFixed(1)} to ${max.toFixed(1)}`);
  }
  return value;
}
