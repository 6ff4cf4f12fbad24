/**
 * Where the phonemizer's clauses and sentences end in a text, for cutting text that arrives
 * in pieces at the places planSpeech would cut the whole (phonemize.ts reads the same flags).
 */
import { espeakClauses } from "./espeak.js";
import type { PiperVoiceConfig } from "./voice-config.js";

// espeak-ng clause types (readclause.h).
const CLAUSE_TYPE_EOF = 0x00010000;
const CLAUSE_TYPE_SENTENCE = 0x00080000;

export interface TextClause {
  /** UTF-16 offset in the text where the clause ends (with the spaces after it). */
  end: number;
  /** Whether a terminator ends a sentence here ("." "?" "!"), not just the text. */
  endsSentence: boolean;
}

/**
 * The clauses of `text` in order. Raw phonemes ("[[ ... ]]") are not text, so clauses end
 * only before the first of them; a voice without espeak (phoneme_type "text") has none.
 */
export function textClauses(text: string, voice: PiperVoiceConfig): TextClause[] {
  if (voice.phonemeType === "text") return [];
  const block = text.indexOf("[[");
  const read = block >= 0 ? text.slice(0, block) : text;
  if (read.trim().length === 0) return [];
  const offsets = utf16Offsets(read);
  return espeakClauses(voice.espeakVoice, read).map((clause) => ({
    end: offsets[Math.min(clause.end, offsets.length - 1)]!,
    endsSentence: (clause.terminator & CLAUSE_TYPE_SENTENCE) !== 0 && (clause.terminator & CLAUSE_TYPE_EOF) === 0,
  }));
}

/** For each code point index (and the end), its UTF-16 offset. */
function utf16Offsets(text: string): number[] {
  const offsets = [0];
  for (const char of text) offsets.push(offsets.at(-1)! + char.length);
  return offsets;
}
