/**
 * The espeak-ng binding (native/espeak, built by `npm install`). espeak-ng is a C library
 * with global state; the binding serializes calls and keeps the selected voice.
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const nativeDir = fileURLToPath(new URL("../../native/espeak/", import.meta.url));

/**
 * One espeak-ng clause: IPA phonemes, espeak's raw clause flags, the words of the IPA and
 * where the clause ends in the text. Offsets count code points.
 */
export interface EspeakClause {
  phonemes: string;
  terminator: number;
  /** One per word espeak wrote into `phonemes`, in order (a word may have no phonemes). */
  words: EspeakWord[];
  /**
   * Where the next clause begins in the text (the text's length for the last clause): the
   * clause holds the text before it, with the spaces after its terminator.
   */
  end: number;
}

export interface EspeakWord {
  /** Where the word begins in `phonemes`: at the space before it, if it has one. */
  phonemeStart: number;
  /**
   * Where the text word it was spoken for begins in the text, as espeak placed it (at most a
   * character off around abbreviations); every IPA word of a number or of a multi-word
   * dictionary entry ("one hundred twenty three" for "123") has the same start.
   */
  textStart: number;
}

interface EspeakBinding {
  initialize(dataDir: string): void;
  phonemize(voice: string, text: string): EspeakClause[];
}

let binding: EspeakBinding | undefined;

function load(): EspeakBinding {
  if (binding) return binding;
  const file = `${nativeDir}espeak.node`;
  if (!existsSync(file)) {
    throw new Error(`espeak-ng binding missing at ${file}: run \`npm ci\` (its postinstall builds native/espeak)`);
  }
  const loaded = createRequire(import.meta.url)(file) as EspeakBinding;
  loaded.initialize(nativeDir);
  binding = loaded;
  return loaded;
}

/** Phonemizes `text` clause by clause with the espeak-ng voice `espeakVoice` (e.g. "en-us"). */
export function espeakClauses(espeakVoice: string, text: string): EspeakClause[] {
  return load().phonemize(espeakVoice, text);
}
