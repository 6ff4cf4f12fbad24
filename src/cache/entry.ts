/** A spoken word: where it is in the text (code points) and in the audio (seconds). */
export interface TimedWord {
  word: string;
  textStart: number;
  textEnd: number;
  startSeconds: number;
  endSeconds: number;
  sentenceIndex: number;
}

/** The audio and the metadata needed to answer a synthesis request again. */
export interface CachedAudio {
  /** The encoded audio file, as returned to the client. Treat as read-only: hits share it. */
  bytes: Uint8Array;
  /** The caller's name for the encoding, for example "wav". */
  encoding: string;
  sampleRate: number;
  durationSeconds: number;
  /** Engine and voice that spoke, for example "piper:en_US-joe-medium". */
  modelUsed: string;
  /**
   * Exclusive end offset in `bytes` of each sentence's audio, in order, so a
   * streamed answer can be replayed with its sentence indexes.
   */
  sentenceByteEnds?: number[];
  /** The first sample (at `sampleRate`) of each sentence's audio, in order. */
  sentenceSampleStarts?: number[];
  /** Every spoken word, when the engine gave durations for every sentence. */
  words?: TimedWord[];
  /** The text `words` index: a hit for a text that differs in spacing has other offsets. */
  wordsText?: string;
}

/** What the tiers hold: the audio plus when it was first stored. */
export interface CacheEntry {
  audio: CachedAudio;
  /**
   * Epoch milliseconds of the original store. Every tier derives its TTL from
   * this, so promoting an entry between tiers never extends its life.
   */
  storedAt: number;
}

/** Milliseconds an entry stored at `storedAt` has left to live; <= 0 when expired. */
export function remainingTtlMs(storedAt: number, ttlMs: number, now = Date.now()): number {
  return storedAt + ttlMs - now;
}

/**
 * How often a tier sweeps its expired entries: lru-cache keeps them (counted in its size)
 * until they are touched, and a sweep walks every entry, so it runs on a timer rather
 * than in stats(). Counts include an expired entry for at most this long.
 */
export function staleSweepIntervalMs(ttlMs: number): number {
  return Math.min(ttlMs, 60_000);
}
