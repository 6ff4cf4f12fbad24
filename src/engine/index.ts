/** The engine: text → phoneme ids → audio samples, for the voices it loads. */
export {
  Engine,
  type EngineOptions,
  type EngineStatus,
  type SentenceWindow,
  type SpeechSettings,
  type VoiceFiles,
  type VoiceModel,
  type VoiceProblem,
} from "./engine.js";
export type { Scales } from "./inference.js";
export { type TextClause, textClauses } from "./clauses.js";
export { MAX_SENTENCE_PHONEMES, planSpeech, type Plan, type PlannedSentence, type PlannedWord } from "./plan.js";
export { type WordInterval, wordIntervals } from "./word-timing.js";
export { parseVoiceConfig, readVoiceConfig, type PiperVoiceConfig, type VoiceLanguage } from "./voice-config.js";
