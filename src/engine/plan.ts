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
import { type PhonemizedSentence, phonemizeWords } from "./phonemize.js";
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
  /** The words of the text this sentence speaks, in text order, not overlapping. */
  words: PlannedWord[];
}

/**
 * A word of the text and the phonemes and ids that speak it; every ranges is [start, end).
 * Spaces and punctuation between words (pauses) belong to no word.
 */
export interface PlannedWord {
  /** Offsets in the text given to planSpeech, in Unicode code points (Python str indices). */
  textStart: number;
  textEnd: number;
  /** In the sentence's `phonemes`: from the word's first phoneme through its last. */
  phonemeStart: number;
  phonemeEnd: number;
  /**
   * In the sentence's `ids`: from its first phoneme's first id through the PAD after its last
   * phoneme. In Piper's layout every phoneme is followed by a PAD that carries the end of its
   * sound, so each phoneme owns the PAD after it.
   */
  idStart: number;
  idEnd: number;
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
  const sentences = phonemizeWords(text, voice).filter((sentence) => sentence.phonemes.length > 0);
  sentences.forEach((sentence, sentenceIndex) => {
    for (const [from, to] of cutOverlongSentence(sentence.phonemes)) {
      const phonemes = sentence.phonemes.slice(from, to);
      const result = phonemeIds(phonemes, voice);
      for (const p of result.missing) missing.add(p);
      // BOS, PAD and EOS alone carry no speech.
      if (result.ids.length > 3)
        planned.push({ sentenceIndex, phonemes, ids: result.ids, words: plannedWords(sentence, from, to, result.phonemeStarts) });
    }
  });
  if (planned.length === 0) throw new NothingToSpeakError(text);
  return { sentences: planned, sentenceCount: sentences.length, missingPhonemes: [...missing] };
}

/** The words of `sentence.phonemes[from, to)`, with ranges in that part and its ids. */
function plannedWords(sentence: PhonemizedSentence, from: number, to: number, phonemeStarts: readonly number[]): PlannedWord[] {
  const words: PlannedWord[] = [];
  let current = -1;
  for (let i = from; i < to; i++) {
    const word = sentence.wordOf[i]!;
    if (word < 0) continue;
    const phoneme = i - from;
    if (word !== current) {
      const { textStart, textEnd } = sentence.words[word]!;
      words.push({ textStart, textEnd, phonemeStart: phoneme, phonemeEnd: phoneme + 1, idStart: 0, idEnd: 0 });
      current = word;
    }
    words[words.length - 1]!.phonemeEnd = phoneme + 1;
  }
  for (const word of words) {
    word.idStart = phonemeStarts[word.phonemeStart]!;
    word.idEnd = phonemeStarts[word.phonemeEnd]!;
  }
  return words;
}

/** [start, end) of each part of a sentence, in its phonemes. */
function cutOverlongSentence(sentence: readonly string[]): [number, number][] {
  const parts: [number, number][] = [];
  let start = 0;
  while (sentence.length - start > MAX_SENTENCE_PHONEMES) {
    const window = sentence.slice(start, start + MAX_SENTENCE_PHONEMES);
    let cut = lastIndexWhere(window, (p, i) => p === " " && i > 0 && [",", ";", ":"].includes(window[i - 1]!));
    if (cut <= 0) cut = window.lastIndexOf(" ");
    if (cut <= 0) cut = MAX_SENTENCE_PHONEMES - 1;
    parts.push([start, start + cut + 1]);
    start += cut + 1;
  }
  if (start < sentence.length) parts.push([start, sentence.length]);
  return parts;
}

function lastIndexWhere<T>(items: readonly T[], test: (item: T, index: number) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!, i)) return i;
  return -1;
}
