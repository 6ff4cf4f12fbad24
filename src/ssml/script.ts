/**
 * The speech script: what an SSML document asks the engine to say, in order, as plain
 * objects (structured-cloneable, JSON-safe) the engine can follow without knowing SSML.
 *
 * Offsets are Unicode code points into the document exactly as the client sent it (a BOM,
 * CR LF and entity references included), so a word's timestamps can name the substring of
 * the client's own document it came from.
 */

/** A half-open range [start, end) of code points in the SSML document. */
export interface SourceSpan {
  start: number;
  end: number;
}

/**
 * Where each code point of a segment's text came from: code point i of the text was written
 * as the document's code points [starts[i], ends[i]). Usually one code point; `&amp;` gives
 * one code point from five; a `<sub alias>`'s alias maps every code point to the whole
 * `<sub>` element, a `<say-as>` expansion to the element's content.
 */
export interface SourceMap {
  starts: number[];
  ends: number[];
}

/**
 * Prosody in force for a segment, already composed through nested elements: rates
 * multiply, semitones and decibels add. `volumeDb` is SILENT_DB for `volume="silent"`.
 */
export interface Prosody {
  /** Speaking rate multiplier; 1 is the voice's normal rate. */
  rate: number;
  /** Pitch shift in semitones; 0 is the voice's own pitch. */
  pitchSemitones: number;
  /** Gain in dB; 0 leaves the voice's level. */
  volumeDb: number;
}

/** What the voice, language and prosody are for a spoken segment. */
export interface Speaking {
  prosody: Prosody;
  /** `<voice name>` in force; undefined: the request's voice. Not checked against installed voices here. */
  voice?: string;
  /** `xml:lang` in force (BCP 47, as written); undefined: the voice's language. */
  language?: string;
}

/**
 * Text to phonemize and speak. Adjacent text with the same voice, language and prosody is
 * one segment, so a comment or an ignored tag does not split a word; a segment boundary is
 * a word boundary. Text is as the document has it (entities decoded, CR LF read as LF,
 * whitespace kept); it is never whitespace only.
 */
export interface TextSegment extends Speaking {
  kind: "text";
  text: string;
  source: SourceMap;
}

/** `<phoneme alphabet="ipa" ph>`: raw IPA spoken as written (the element's text is not spoken). */
export interface PhonemesSegment extends Speaking {
  kind: "phonemes";
  ipa: string;
  source: SourceSpan;
}

/** Silence of exactly `seconds` (`<break>`); consecutive breaks are kept apart, not summed. */
export interface BreakSegment {
  kind: "break";
  seconds: number;
  source: SourceSpan;
}

/**
 * The edge of an `<s>` or `<p>`: text on either side is never one sentence. Repeated
 * boundaries collapse into one (paragraph wins); none starts or ends the script.
 */
export interface BoundarySegment {
  kind: "boundary";
  type: "sentence" | "paragraph";
}

/** `<mark name>`: the point in the audio a client asks to be told about. */
export interface MarkSegment {
  kind: "mark";
  name: string;
  source: SourceSpan;
}

export type ScriptSegment = TextSegment | PhonemesSegment | BreakSegment | BoundarySegment | MarkSegment;

export interface SpeechScript {
  segments: ScriptSegment[];
  /** The marks' names in document order (as the mark segments have them). */
  marks: string[];
  /** `xml:lang` of `<speak>`, if given: the document's language. */
  language?: string;
}
