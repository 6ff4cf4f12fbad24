/**
 * Text → sentence plan: phonemes and model ids per sentence, exactly as Piper would feed the
 * voice. Pure and synchronous (espeak-ng is called in process): the engine runs it inside
 * an inference worker, after admission, never on the event loop.
 *
 * A sentence is one encoder run, as in Piper, so its audio (durations, prosody, length) is
 * Piper's; the decoder's latency and memory are bounded by its windows (inference.ts). Only
 * a sentence longer than MAX_SENTENCE_PHONEMES, which real text rarely has, is cut.
 */
import { NothingToSpeakError } from "../errors/index.js";
import { phonemeIds } from "./phoneme-ids.js";
import { phonemize } from "./phonemize.js";
import type { PiperVoiceConfig } from "./voice-config.js";

/**
 * Longest sentence, in phonemes, run through the encoder at once. The text encoder's
 * attention spans the whole sentence, so its memory and time grow with the square of the
 * sentence's length, and onnxruntime's arena keeps the peak: on en_US-joe-medium, one
 * thread, 1000 ids (about 500 phonemes) took +82 MB and 1.0 s, 2000 ids +203 MB and 2.7 s,
 * 4000 ids +777 MB and 10 s, and one 5000-character sentence (8529 ids) left a 2-worker
 * service at 5.9 GB (the manifest's limit is 1.5 GiB). Up to 1100 phonemes (about 2200 ids,
 * some 1200 characters in one sentence; the golden data's longest has 1062) a sentence is
 * Piper's; a longer one is cut at its last clause pause (", " "; " ": ") or space before the
 * bound, and its parts are spoken one after the other.
 */
export const MAX_SENTENCE_PHONEMES = 1100;

/** One encoder run: a sentence, or a part of one longer than MAX_SENTENCE_PHONEMES. */
export interface PlannedSentence {
  /** Index among the text's sentences (those that give no ids are not planned). */
  sentenceIndex: number;
  phonemes: string[];
  ids: number[];
}

export interface Plan {
  sentences: PlannedSentence[];
  sentenceCount: number;
  /** Phonemes the voice's id map lacks; dropped, as Piper drops them. */
  missingPhonemes: string[];
}

export function planSpeech(text: string, voice: PiperVoiceConfig): Plan {
  const planned: PlannedSentence[] = [];
  const missing = new Set<string>();
  const sentences = phonemize(text, voice).filter((sentence) => sentence.length > 0);
  sentences.forEach((sentence, sentenceIndex) => {
    for (const phonemes of cutOverlongSentence(sentence)) {
      const result = phonemeIds(phonemes, voice);
      for (const p of result.missing) missing.add(p);
      // BOS, PAD and EOS alone carry no speech.
      if (result.ids.length > 3) planned.push({ sentenceIndex, phonemes, ids: result.ids });
    }
  });
  if (planned.length === 0) throw new NothingToSpeakError(text);
  return { sentences: planned, sentenceCount: sentences.length, missingPhonemes: [...missing] };
}

function cutOverlongSentence(sentence: string[]): string[][] {
  const parts: string[][] = [];
  let rest = sentence;
  while (rest.length > MAX_SENTENCE_PHONEMES) {
    const window = rest.slice(0, MAX_SENTENCE_PHONEMES);
    let cut = lastIndexWhere(window, (p, i) => p === " " && i > 0 && [",", ";", ":"].includes(window[i - 1]!));
    if (cut <= 0) cut = window.lastIndexOf(" ");
    if (cut <= 0) cut = MAX_SENTENCE_PHONEMES - 1;
    parts.push(rest.slice(0, cut + 1));
    rest = rest.slice(cut + 1);
  }
  if (rest.length > 0) parts.push(rest);
  return parts;
}

function lastIndexWhere<T>(items: readonly T[], test: (item: T, index: number) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!, i)) return i;
  return -1;
}
