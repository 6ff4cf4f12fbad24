/** Pronunciation lexicons: PLS files in LEXICONS_DIR and a request's inline entries, applied to text. */
export {
  type InlinePronunciation,
  type Lexicon,
  type LexiconPiece,
  MAX_INLINE_PRONUNCIATIONS,
  MAX_PRONUNCIATION_LENGTH,
  plainTextSource,
  Pronunciations,
} from "./match.js";
export { type Lexeme, MAX_LEXICON_BYTES, type Pronunciation } from "./pls.js";
export { type LexiconProblem, LexiconStore, type LexiconStoreOptions, MAX_LEXICONS_PER_REQUEST } from "./store.js";
