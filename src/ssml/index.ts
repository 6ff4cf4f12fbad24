/** SSML → speech script: the subset of SSML the service speaks, parsed and checked. */
export { MAX_SSML_DEPTH, MAX_SSML_ELEMENTS, MAX_SSML_NAME_LENGTH, parseSsml } from "./parse.js";
export { DATE_FORMATS, INTERPRET_AS, type InterpretAs, TIME_FORMATS } from "./say-as.js";
export type {
  BoundarySegment,
  BreakSegment,
  MarkSegment,
  PhonemesSegment,
  Prosody,
  ScriptSegment,
  SourceMap,
  SourceSpan,
  Speaking,
  SpeechScript,
  TextSegment,
} from "./script.js";
export {
  BREAK_STRENGTH_SECONDS,
  EMPHASIS_PROSODY,
  MAX_BREAK_SECONDS,
  MAX_TOTAL_BREAK_SECONDS,
  NAMED_PITCHES_SEMITONES,
  NAMED_RATES,
  NAMED_VOLUMES_DB,
  NORMAL_PROSODY,
  PITCH_RANGE_SEMITONES,
  RATE_RANGE,
  SILENT_DB,
  VOLUME_RANGE_DB,
} from "./values.js";
