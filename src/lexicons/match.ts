/**
 * Pronunciations applied to text: which phrases are replaced, by what, and where each
 * piece came from. The rules:
 *
 * - Whole words only: a phrase that starts (ends) with a letter or digit matches only where
 *   the text has no letter, digit or combining mark just before (after) it. "TTS" matches
 *   in "TTS," but not in "TTSs".
 * - Case: a phrase written all in lower case matches any case ("tomato" matches "Tomato");
 *   one with a capital matches only as written ("AetherOS" not "aetheros"). Azure's
 *   lexicons are case-sensitive; this keeps that for names and acronyms and spares
 *   listing every capitalisation of an ordinary word.
 * - Whitespace in a phrase matches any run of whitespace in the text.
 * - Left to right; at each position the longest phrase wins ("New York City" before "New
 *   York"); between phrases of one length, the request's inline entries come first, then
 *   the lexicons in the order named, then a lexicon's earlier lexeme.
 * - A replacement is final: an alias is not matched again, and the text after a match is
 *   matched from where the match ended.
 */
import { createHash } from "node:crypto";
import { InvalidArgumentError } from "../errors/index.js";
import type { SourceMap, SourceSpan } from "../ssml/index.js";
import type { Lexeme, Pronunciation } from "./pls.js";

/** Most inline pronunciations one request may carry. */
export const MAX_INLINE_PRONUNCIATIONS = 100;
/** Longest inline phrase, IPA or alias, in code points. */
export const MAX_PRONUNCIATION_LENGTH = 256;

/** A pronunciation given in the request (Google's custom_pronunciations): exactly one of ipa and alias. */
export interface InlinePronunciation {
  phrase: string;
  ipa?: string;
  alias?: string;
}

/** A loaded lexicon: its name (the file name without ".pls") and content hash. */
export interface Lexicon {
  name: string;
  /** Hash of the file's bytes: changes whenever the file does. */
  version: string;
  language: string | undefined;
  lexemes: Lexeme[];
}

/** What the planner speaks: text to phonemize, or raw IPA (as it speaks "[[ ipa ]]"). */
export type LexiconPiece = { text: string; source: SourceMap } | { phonemes: string; source: SourceSpan };

interface Entry {
  phrase: string[];
  caseSensitive: boolean;
  pronunciation: Pronunciation;
}

interface RankedEntry extends Entry {
  /** Position among all entries: inline first, then lexicon by lexicon. */
  rank: number;
}

const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;
const WHITESPACE = /\s/u;

/** A source map where each code point of `text` is itself (plain text, not SSML). */
export function plainTextSource(text: string): SourceMap {
  const count = [...text].length;
  const starts = Array.from({ length: count }, (_, i) => i);
  return { starts, ends: starts.map((start) => start + 1) };
}

/** The request's inline entries and the named lexicons, compiled for matching. */
export class Pronunciations {
  /** Identifies the entries and lexicon versions: part of the audio cache key ("" when there are none). */
  readonly version: string;
  /** Entries by their phrase's first character in lower case, longest phrase first, then by rank. */
  private readonly byFirstChar = new Map<string, RankedEntry[]>();

  private constructor(entries: Entry[], version: string) {
    this.version = version;
    entries.forEach((entry, rank) => {
      const key = entry.phrase[0]!.toLowerCase();
      const list = this.byFirstChar.get(key) ?? [];
      list.push({ ...entry, rank });
      this.byFirstChar.set(key, list);
    });
    for (const list of this.byFirstChar.values()) list.sort((a, b) => b.phrase.length - a.phrase.length || a.rank - b.rank);
  }

  /**
   * Checks the inline entries (errors name `${field}[i].phrase` etc.) and compiles them
   * ahead of the lexicons' lexemes, in the lexicons' order.
   */
  static compile(inline: readonly InlinePronunciation[], lexicons: readonly Lexicon[], field = "config.pronunciations"): Pronunciations {
    if (inline.length > MAX_INLINE_PRONUNCIATIONS) {
      throw new InvalidArgumentError(field, `${inline.length} entries; allowed at most ${MAX_INLINE_PRONUNCIATIONS}`);
    }
    const entries: Entry[] = inline.map((entry, i) => inlineEntry(entry, `${field}[${i}]`));
    for (const lexicon of lexicons) {
      for (const lexeme of lexicon.lexemes) {
        for (const grapheme of lexeme.graphemes) entries.push(toEntry(grapheme, lexeme.pronunciation));
      }
    }
    const version =
      entries.length === 0
        ? ""
        : createHash("sha256")
            .update(
              JSON.stringify([inline.map((e) => [e.phrase, e.ipa ?? null, e.alias ?? null]), lexicons.map((l) => [l.name, l.version])]),
            )
            .digest("hex")
            .slice(0, 32);
    return new Pronunciations(entries, version);
  }

  /** `text` (with where each code point came from) as pieces, the matches replaced. */
  apply(text: string, source: SourceMap): LexiconPiece[] {
    const chars = [...text];
    const pieces: LexiconPiece[] = [];
    let pending: { text: string; source: SourceMap } | undefined;
    const pushText = (value: string, starts: number[], ends: number[]) => {
      if (!pending) {
        pending = { text: "", source: { starts: [], ends: [] } };
        pieces.push(pending);
      }
      pending.text += value;
      for (let i = 0; i < starts.length; i++) {
        pending.source.starts.push(starts[i]!);
        pending.source.ends.push(ends[i]!);
      }
    };
    for (let i = 0; i < chars.length; ) {
      const match = this.byFirstChar.size > 0 ? this.matchAt(chars, i) : undefined;
      if (!match) {
        pushText(chars[i]!, [source.starts[i]!], [source.ends[i]!]);
        i += 1;
        continue;
      }
      const span = { start: source.starts[i]!, end: source.ends[match.end - 1]! };
      if ("alias" in match.entry.pronunciation) {
        const count = [...match.entry.pronunciation.alias].length;
        pushText(match.entry.pronunciation.alias, new Array(count).fill(span.start), new Array(count).fill(span.end));
      } else {
        pieces.push({ phonemes: match.entry.pronunciation.phonemes, source: span });
        pending = undefined;
      }
      i = match.end;
    }
    return pieces;
  }

  private matchAt(chars: string[], start: number): { entry: Entry; end: number } | undefined {
    const first = chars[start]!;
    if (WORD_CHAR.test(first) && start > 0 && WORD_CHAR.test(chars[start - 1]!)) return undefined;
    const candidates = this.byFirstChar.get(first.toLowerCase());
    if (!candidates) return undefined;
    for (const entry of candidates) {
      const end = matchEnd(entry, chars, start);
      if (end !== undefined) return { entry, end };
    }
    return undefined;
  }
}

function matchEnd(entry: Entry, chars: string[], start: number): number | undefined {
  let j = start;
  for (const expected of entry.phrase) {
    if (expected === " ") {
      if (j >= chars.length || !WHITESPACE.test(chars[j]!)) return undefined;
      while (j < chars.length && WHITESPACE.test(chars[j]!)) j++;
      continue;
    }
    const actual = chars[j];
    if (actual === undefined) return undefined;
    if (actual !== expected && (entry.caseSensitive || actual.toLowerCase() !== expected.toLowerCase())) return undefined;
    j++;
  }
  const last = entry.phrase[entry.phrase.length - 1]!;
  if (WORD_CHAR.test(last) && j < chars.length && WORD_CHAR.test(chars[j]!)) return undefined;
  return j;
}

function toEntry(phrase: string, pronunciation: Pronunciation): Entry {
  const normalized = phrase.trim().replace(/\s+/gu, " ");
  return { phrase: [...normalized], caseSensitive: normalized !== normalized.toLowerCase(), pronunciation };
}

function inlineEntry(entry: InlinePronunciation, field: string): Entry {
  const phrase = entry.phrase.trim();
  if (!WORD_CHAR.test(phrase)) throw new InvalidArgumentError(`${field}.phrase`, `${JSON.stringify(entry.phrase)} has no letter or digit`);
  if ([...phrase].length > MAX_PRONUNCIATION_LENGTH) {
    throw new InvalidArgumentError(`${field}.phrase`, `${[...phrase].length} characters; allowed 1 to ${MAX_PRONUNCIATION_LENGTH}`);
  }
  const ipa = entry.ipa?.trim() || undefined;
  const alias = entry.alias?.trim() || undefined;
  if ((ipa === undefined) === (alias === undefined)) throw new InvalidArgumentError(field, "give exactly one of ipa and alias");
  const value = (ipa ?? alias)!;
  const name = ipa ? "ipa" : "alias";
  if ([...value].length > MAX_PRONUNCIATION_LENGTH) {
    throw new InvalidArgumentError(`${field}.${name}`, `${[...value].length} characters; allowed 1 to ${MAX_PRONUNCIATION_LENGTH}`);
  }
  if (ipa && (ipa.includes("[[") || ipa.includes("]]"))) throw new InvalidArgumentError(`${field}.ipa`, 'may not contain "[[" or "]]"');
  return toEntry(phrase, ipa ? { phonemes: ipa } : { alias: alias! });
}
