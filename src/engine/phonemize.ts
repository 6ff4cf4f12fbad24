/**
 * Text → phonemes grouped by sentence, exactly as Piper 1.8 does it (piper/voice.py
 * `PiperVoice.phonemize` and piper/phonemize_espeak.py), so a voice hears the phonemes it
 * was trained on.
 */
import type { PiperVoiceConfig } from "./voice-config.js";
import { espeakClauses } from "./espeak.js";

// espeak-ng clause flags (readclause.h): pause length | intonation | clause type.
const CLAUSE_TYPE_SENTENCE = 0x00080000;
const TERMINATORS = new Map<number, string>([
  [40 | 0x00000000 | CLAUSE_TYPE_SENTENCE, "."],
  [40 | 0x00002000 | CLAUSE_TYPE_SENTENCE, "?"],
  [45 | 0x00003000 | CLAUSE_TYPE_SENTENCE, "!"],
  [20 | 0x00001000 | 0x00040000, ","],
  [30 | 0x00000000 | 0x00040000, ":"],
  [30 | 0x00001000 | 0x00040000, ";"],
]);
/** Terminators that end a clause but not a sentence; Piper follows them with a space. */
const CLAUSE_PAUSES = new Set([",", ":", ";"]);
/** espeak's language-switch flags such as "(en)" around foreign words. */
const LANGUAGE_FLAG = /\([^)]+\)/g;
/** Raw phonemes written inside the text: "[[ həlˈoʊ ]]". */
const PHONEME_BLOCK = /(\[\[.*?\]\])/;

export type Sentence = string[];

export function phonemize(text: string, voice: PiperVoiceConfig): Sentence[] {
  if (voice.phonemeType === "text") return [codepoints(text.normalize("NFD"))];

  const sentences: Sentence[] = [];
  const parts = text.split(PHONEME_BLOCK);
  let previousWasRaw = false;
  parts.forEach((part, i) => {
    if (part.startsWith("[[")) {
      previousWasRaw = true;
      if (sentences.length === 0) sentences.push([]);
      const current = sentences[sentences.length - 1]!;
      if (i > 0 && parts[i - 1]!.endsWith(" ")) current.push(" ");
      current.push(...codepoints(part.slice(2, -2).trim()));
      if (i < parts.length - 1 && parts[i + 1]!.startsWith(" ")) current.push(" ");
      return;
    }
    const partSentences = espeakSentences(part, voice);
    if (previousWasRaw && partSentences.length > 0) {
      sentences[sentences.length - 1]!.push(...partSentences.shift()!);
    }
    sentences.push(...partSentences);
    previousWasRaw = false;
  });
  if (sentences.length > 0 && sentences[sentences.length - 1]!.length === 0) sentences.pop();
  return sentences;
}

function espeakSentences(text: string, voice: PiperVoiceConfig): Sentence[] {
  const sentences: Sentence[] = [];
  let sentence: Sentence = [];
  for (const clause of espeakClauses(voice.espeakVoice, text)) {
    const flags = clause.terminator & 0x000fffff;
    const terminator = TERMINATORS.get(flags) ?? "";
    let phonemes = clause.phonemes.replace(LANGUAGE_FLAG, "") + terminator;
    if (CLAUSE_PAUSES.has(terminator)) phonemes += " ";
    sentence.push(...codepoints(phonemes.normalize("NFD")));
    if ((flags & CLAUSE_TYPE_SENTENCE) === CLAUSE_TYPE_SENTENCE) {
      sentences.push(mergeVowelClusters(sentence, voice.vowelClusters));
      sentence = [];
    }
  }
  if (sentence.length > 0) sentences.push(mergeVowelClusters(sentence, voice.vowelClusters));
  return sentences;
}

/** Joins known multi-codepoint vowels into one phoneme, longest match first. */
function mergeVowelClusters(phonemes: Sentence, clusters: readonly (readonly string[])[]): Sentence {
  if (clusters.length === 0) return phonemes;
  const known = new Set(clusters.map((c) => c.join("\u0000")));
  const longest = Math.max(...clusters.map((c) => c.length));
  const merged: Sentence = [];
  for (let i = 0; i < phonemes.length; ) {
    let matched = 0;
    for (let n = Math.min(longest, phonemes.length - i); n > 1; n--) {
      if (known.has(phonemes.slice(i, i + n).join("\u0000"))) {
        matched = n;
        break;
      }
    }
    if (matched > 0) {
      merged.push(phonemes.slice(i, i + matched).join(""));
      i += matched;
    } else {
      merged.push(phonemes[i]!);
      i += 1;
    }
  }
  return merged;
}

/** Splits a string into Unicode codepoints, as Python's list(str) does. */
function codepoints(text: string): string[] {
  return Array.from(text);
}
