/**
 * Text → phonemes grouped by sentence, exactly as Piper 1.8 does it (piper/voice.py
 * `PiperVoice.phonemize` and piper/phonemize_espeak.py), so a voice hears the phonemes it
 * was trained on; and, for word timings, which word of the text each phoneme speaks.
 *
 * Text offsets count Unicode code points (as Python's str indices do), not UTF-16 units.
 */
import { type EspeakClause, espeakClauses } from "./espeak.js";
import type { PiperVoiceConfig } from "./voice-config.js";

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

/** A word of the text that a sentence speaks: [textStart, textEnd) in code points. */
export interface TextWord {
  textStart: number;
  textEnd: number;
}

export interface PhonemizedSentence {
  phonemes: string[];
  /** Per phoneme, its word's index in `words`; -1 for spaces and punctuation. */
  wordOf: number[];
  /** In text order, each with at least one phoneme. */
  words: TextWord[];
}

export function phonemize(text: string, voice: PiperVoiceConfig): Sentence[] {
  return phonemizeWords(text, voice).map((sentence) => sentence.phonemes);
}

/**
 * As `phonemize`, with each sentence's words. A text word is a run of non-space characters
 * within one clause, without the quotes, brackets and clause punctuation around it; every
 * IPA word espeak speaks for it (a number, an abbreviation, "😀" as "grinning face") is part
 * of it, and so are the words after it that espeak spoke together with it ("of a" is one
 * dictionary entry). A `[[ ]]` block is one word spanning the block. Voices that read text
 * (phoneme_type "text") have no words.
 */
export function phonemizeWords(text: string, voice: PiperVoiceConfig): PhonemizedSentence[] {
  if (voice.phonemeType === "text") {
    const phonemes = codepoints(text.normalize("NFD"));
    return [{ phonemes, wordOf: phonemes.map(() => -1), words: [] }];
  }

  const sentences: SentenceBuilder[] = [];
  const parts = text.split(PHONEME_BLOCK);
  let previousWasRaw = false;
  let partStart = 0;
  parts.forEach((part, i) => {
    const partLength = codepoints(part).length;
    if (part.startsWith("[[")) {
      previousWasRaw = true;
      if (sentences.length === 0) sentences.push(new SentenceBuilder());
      const current = sentences[sentences.length - 1]!;
      if (i > 0 && parts[i - 1]!.endsWith(" ")) current.add([" "]);
      current.add(codepoints(part.slice(2, -2).trim()), { textStart: partStart, textEnd: partStart + partLength });
      if (i < parts.length - 1 && parts[i + 1]!.startsWith(" ")) current.add([" "]);
    } else {
      const partSentences = espeakSentences(part, partStart, voice);
      if (previousWasRaw && partSentences.length > 0) {
        sentences[sentences.length - 1]!.append(partSentences.shift()!);
      }
      sentences.push(...partSentences);
      previousWasRaw = false;
    }
    partStart += partLength;
  });
  if (sentences.length > 0 && sentences[sentences.length - 1]!.phonemes.length === 0) sentences.pop();
  return sentences.map((sentence) => sentence.finish(voice.vowelClusters));
}

function espeakSentences(text: string, textStart: number, voice: PiperVoiceConfig): SentenceBuilder[] {
  const characters = codepoints(text);
  const sentences: SentenceBuilder[] = [];
  let sentence = new SentenceBuilder();
  let clauseStart = 0;
  for (const clause of espeakClauses(voice.espeakVoice, text)) {
    const flags = clause.terminator & 0x000fffff;
    const terminator = TERMINATORS.get(flags) ?? "";
    const phonemes = codepoints(clause.phonemes);
    const words = clauseWords(clause, phonemes, characters, clauseStart, textStart);
    // IPA before the first word (none seen) is the first word's.
    const starts = clause.words.map((word) => word.phonemeStart);
    if (starts.length === 0 || starts[0] !== 0) starts.unshift(0);
    if (words.length < starts.length) words.unshift(words[0]);
    starts.forEach((start, k) => {
      const ipa = phonemes.slice(start, starts[k + 1] ?? phonemes.length).join("");
      sentence.add(codepoints(ipa.replace(LANGUAGE_FLAG, "").normalize("NFD")), words[k]);
    });
    sentence.add(codepoints(`${terminator}${CLAUSE_PAUSES.has(terminator) ? " " : ""}`));
    if ((flags & CLAUSE_TYPE_SENTENCE) === CLAUSE_TYPE_SENTENCE) {
      sentences.push(sentence);
      sentence = new SentenceBuilder();
    }
    clauseStart = clause.end;
  }
  if (sentence.phonemes.length > 0) sentences.push(sentence);
  return sentences;
}

/** Punctuation around a text word that is not spoken as part of it: quotes, brackets, pauses. */
const UNSPOKEN_EDGE = /^[\p{Ps}\p{Pe}\p{Pi}\p{Pf}"'.,;:!?…¡¿]$/u;
const UNSPOKEN_END = /^[\p{Ps}\p{Pe}\p{Pi}\p{Pf}\p{Pd}"'.,;:!?…¡¿]$/u;
/** "e.g.", "U.S.A.": the last full stop is part of the abbreviation. */
const DOTTED_ABBREVIATION = /^(?:\p{L}{1,3}\.){2,}$/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
/** Spaces, and NUL, which the binding takes out of the text before espeak reads it. */
const SPACE = /^[\s\0]$/u;

/**
 * The text word of each of the clause's IPA words (undefined for one without phonemes),
 * offset by `textStart`; IPA words of the same text word share one object.
 */
function clauseWords(
  clause: EspeakClause,
  phonemes: readonly string[],
  characters: readonly string[],
  clauseStart: number,
  textStart: number,
): (TextWord | undefined)[] {
  const tokens: { start: number; end: number }[] = [];
  for (let i = clauseStart; i < clause.end; i++) {
    if (SPACE.test(characters[i]!)) continue;
    const start = i;
    while (i < clause.end && !SPACE.test(characters[i]!)) i++;
    tokens.push({ start, end: i });
  }
  // Each IPA word's token: the one it starts in, or the first after (espeak can place a word
  // a character early, on the space before it, after "Mr.").
  const groups: { first: number; last: number; members: number[] }[] = [];
  clause.words.forEach((word, k) => {
    const end = clause.words[k + 1]?.phonemeStart ?? phonemes.length;
    if (tokens.length === 0 || phonemes.slice(word.phonemeStart, end).every((p) => p === " ")) return;
    let token = tokens.findIndex((t) => t.end > word.textStart);
    if (token < 0) token = tokens.length - 1;
    const group = groups[groups.length - 1];
    if (group && token <= group.last) group.members.push(k);
    else groups.push({ first: token, last: token, members: [k] });
  });
  const words: (TextWord | undefined)[] = clause.words.map(() => undefined);
  groups.forEach((group, g) => {
    // Words espeak spoke with this one have no IPA word of their own ("a" after "of").
    const bound = groups[g + 1]?.first ?? tokens.length;
    let last = group.last;
    while (last + 1 < bound && LETTER_OR_DIGIT.test(text(tokens[last + 1]!))) last++;
    let start = tokens[group.first]!.start;
    let end = tokens[last]!.end;
    // Unless the word is only such marks: "!!!" is spoken as "exclamation".
    if (characters.slice(start, end).some((c) => !UNSPOKEN_END.test(c))) {
      while (UNSPOKEN_EDGE.test(characters[start]!)) start++;
      if (!DOTTED_ABBREVIATION.test(characters.slice(tokens[last]!.start, end).join("")))
        while (UNSPOKEN_END.test(characters[end - 1]!)) end--;
    }
    const word = { textStart: textStart + start, textEnd: textStart + end };
    for (const k of group.members) words[k] = word;
  });
  return words;

  function text(token: { start: number; end: number }): string {
    return characters.slice(token.start, token.end).join("");
  }
}

/** A sentence's phonemes as they are appended, each with the word it speaks. */
class SentenceBuilder {
  readonly phonemes: string[] = [];
  private readonly wordOf: (TextWord | undefined)[] = [];

  /** Appends phonemes of `word` (none: pauses); spaces belong to no word. */
  add(phonemes: readonly string[], word?: TextWord): void {
    for (const phoneme of phonemes) {
      this.phonemes.push(phoneme);
      this.wordOf.push(phoneme === " " ? undefined : word);
    }
  }

  append(other: SentenceBuilder): void {
    this.phonemes.push(...other.phonemes);
    this.wordOf.push(...other.wordOf);
  }

  /** Joins known multi-codepoint vowels into one phoneme, longest match first. */
  finish(clusters: readonly (readonly string[])[]): PhonemizedSentence {
    const phonemes: string[] = [];
    const owners: (TextWord | undefined)[] = [];
    const known = new Set(clusters.map((c) => c.join("\u0000")));
    const longest = clusters.length === 0 ? 1 : Math.max(...clusters.map((c) => c.length));
    for (let i = 0; i < this.phonemes.length; ) {
      let matched = 1;
      for (let n = Math.min(longest, this.phonemes.length - i); n > 1; n--) {
        if (known.has(this.phonemes.slice(i, i + n).join("\u0000"))) {
          matched = n;
          break;
        }
      }
      phonemes.push(this.phonemes.slice(i, i + matched).join(""));
      owners.push(this.wordOf.slice(i, i + matched).find((word) => word !== undefined));
      i += matched;
    }
    const words: TextWord[] = [];
    const wordOf = owners.map((word) => {
      if (word === undefined) return -1;
      if (words[words.length - 1] !== word) words.push(word);
      return words.length - 1;
    });
    return { phonemes, wordOf, words };
  }
}

/** Splits a string into Unicode codepoints, as Python's list(str) does. */
function codepoints(text: string): string[] {
  return Array.from(text);
}
