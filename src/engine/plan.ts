/**
 * Text → sentence plan: phonemes and model ids per piece, exactly as Piper would feed the
 * voice. Pure and synchronous (espeak-ng is called in process): the engine runs it inside
 * an inference worker, after admission, never on the event loop.
 */
import { NothingToSpeakError } from "../errors/index.js";
import { phonemeIds } from "./phoneme-ids.js";
import { phonemize } from "./phonemize.js";
import type { PiperVoiceConfig } from "./voice-config.js";

/**
 * Longest piece, in phonemes, synthesized in one inference. At the medium voices' real-time
 * factor on one core (about 0.09) 250 phonemes is roughly a second of compute; longer
 * sentences are cut at their last clause pause (", " "; " ": ") or space before it, so a
 * stream never waits seconds for one piece.
 */
export const MAX_PIECE_PHONEMES = 250;

/** One inference's worth of input. */
export interface Piece {
  /** Index of the sentence this piece belongs to. */
  sentenceIndex: number;
  phonemes: string[];
  ids: number[];
}

export interface Plan {
  pieces: Piece[];
  sentenceCount: number;
  /** Phonemes the voice's id map lacks; dropped, as Piper drops them. */
  missingPhonemes: string[];
}

export function planSpeech(text: string, voice: PiperVoiceConfig): Plan {
  const pieces: Piece[] = [];
  const missing = new Set<string>();
  const sentences = phonemize(text, voice).filter((sentence) => sentence.length > 0);
  sentences.forEach((sentence, sentenceIndex) => {
    for (const phonemes of splitLongSentence(sentence)) {
      const result = phonemeIds(phonemes, voice);
      for (const p of result.missing) missing.add(p);
      // BOS, PAD and EOS alone carry no speech.
      if (result.ids.length > 3) pieces.push({ sentenceIndex, phonemes, ids: result.ids });
    }
  });
  if (pieces.length === 0) throw new NothingToSpeakError(text);
  return { pieces, sentenceCount: sentences.length, missingPhonemes: [...missing] };
}

function splitLongSentence(sentence: string[]): string[][] {
  const pieces: string[][] = [];
  let rest = sentence;
  while (rest.length > MAX_PIECE_PHONEMES) {
    const window = rest.slice(0, MAX_PIECE_PHONEMES);
    let cut = lastIndexWhere(window, (p, i) => p === " " && i > 0 && [",", ";", ":"].includes(window[i - 1]!));
    if (cut <= 0) cut = window.lastIndexOf(" ");
    if (cut <= 0) cut = MAX_PIECE_PHONEMES - 1;
    pieces.push(rest.slice(0, cut + 1));
    rest = rest.slice(cut + 1);
  }
  if (rest.length > 0) pieces.push(rest);
  return pieces;
}

function lastIndexWhere<T>(items: readonly T[], test: (item: T, index: number) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!, i)) return i;
  return -1;
}
