import { createHash } from "node:crypto";

/**
 * Everything that changes the synthesized audio, already resolved by the
 * caller: defaults applied (an unset speed is passed as 1), the speaker as its
 * numeric id, the sample rate as the output rate actually produced.
 */
export interface CacheKeyParts {
  text: string;
  voice: string;
  speakerId: number;
  speed: number;
  pitch: number;
  volume: number;
  /** Sentences scaled to a full-scale peak (Piper's normalize_audio), or the model's own level. */
  peakNormalized: boolean;
  noiseScale: number;
  noiseW: number;
  sentenceSilence: number;
  encoding: string;
  sampleRate: number;
  /** Hash of the voice model file, so replacing the file changes every key. */
  modelHash: string;
}

/**
 * Bumped whenever the canonical form below, or the audio the same parts give, changes, to
 * orphan old keys (v2: speed stretches durations by its exact ratio; v3: the model's own
 * level became the default, so a v2 entry holds audio that keys now mean otherwise).
 */
const KEY_SCHEMA = "aetheros-tts-audio-v3";

/** NFC plus whitespace folding: texts that differ only there sound the same. */
function canonicalText(text: string): string {
  return text.normalize("NFC").trim().replace(/\s+/g, " ");
}

/**
 * The parameters are proto floats, so two callers may hold the same value at
 * float32 (from the wire) and float64 (from a literal) precision; rounding to
 * float32 makes 1.1 and Math.fround(1.1) one key.
 */
function canonicalFloat(name: string, value: number): number {
  if (!Number.isFinite(value)) throw new RangeError(`cache key: ${name} must be finite, got ${value}`);
  return Math.fround(value); // JSON.stringify writes -0 as 0
}

function canonicalInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value)) throw new RangeError(`cache key: ${name} must be an integer, got ${value}`);
  return value;
}

/** SHA-256 (hex) over a canonical JSON array of every part, in a fixed order. */
export function cacheKey(parts: CacheKeyParts): string {
  const canonical = JSON.stringify([
    KEY_SCHEMA,
    canonicalText(parts.text),
    parts.voice,
    canonicalInteger("speakerId", parts.speakerId),
    canonicalFloat("speed", parts.speed),
    canonicalFloat("pitch", parts.pitch),
    canonicalFloat("volume", parts.volume),
    parts.peakNormalized,
    canonicalFloat("noiseScale", parts.noiseScale),
    canonicalFloat("noiseW", parts.noiseW),
    canonicalFloat("sentenceSilence", parts.sentenceSilence),
    parts.encoding,
    canonicalInteger("sampleRate", parts.sampleRate),
    parts.modelHash,
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}
