/**
 * What a request with SSML or pronunciations asks to be said, as a line of items: runs of
 * text (each spoken through the plain-text path, so each is cached and timed as any text),
 * breaks (exact silence) and marks. A run is text spoken with one voice and one prosody;
 * lexicon and `<phoneme>` IPA are raw phoneme blocks ("[[ ... ]]") in it, and every code
 * point of a run knows where in the client's text or document it came from, so word
 * timestamps and marks index what the client sent.
 */
import { plainTextSource, type Pronunciations } from "../lexicons/index.js";
import { NORMAL_PROSODY, type Prosody, type ScriptSegment, type SourceMap } from "../ssml/index.js";

export interface ScriptRun {
  kind: "run";
  /** The text to phonemize; IPA as "[[ ... ]]" blocks. */
  text: string;
  /** Where each code point of `text` came from in the client's text or document. */
  source: SourceMap;
  prosody: Prosody;
  voice?: string;
  language?: string;
  /** Marks inside the run, at code point offsets of `text`. */
  marks: { name: string; offset: number }[];
}

export type ScriptItem = ScriptRun | { kind: "break"; seconds: number } | { kind: "mark"; name: string };

/** Plain text with pronunciations to apply, as one segment of the script. */
export function textSegments(text: string): ScriptSegment[] {
  return [{ kind: "text", text, source: plainTextSource(text), prosody: NORMAL_PROSODY }];
}

/** The segments as runs, breaks and marks, the pronunciations applied to the text. */
export function scriptItems(segments: readonly ScriptSegment[], pronunciations: Pronunciations): ScriptItem[] {
  const items: ScriptItem[] = [];
  let run: ScriptRun | undefined;
  let length = 0;
  const append = (text: string, starts: readonly number[], ends: readonly number[]) => {
    run!.text += text;
    run!.source.starts.push(...starts);
    run!.source.ends.push(...ends);
    length += starts.length;
  };
  const runFor = (segment: Extract<ScriptSegment, { kind: "text" | "phonemes" }>): ScriptRun => {
    if (run && sameSpeaking(run, segment)) {
      // A segment boundary is a word boundary.
      const last = run.source.ends.at(-1) ?? 0;
      if (!/\s$/.test(run.text)) append(" ", [last], [last]);
      return run;
    }
    run = {
      kind: "run",
      text: "",
      source: { starts: [], ends: [] },
      prosody: segment.prosody,
      ...(segment.voice !== undefined && { voice: segment.voice }),
      ...(segment.language !== undefined && { language: segment.language }),
      marks: [],
    };
    length = 0;
    items.push(run);
    return run;
  };
  const appendPhonemes = (ipa: string, start: number, end: number) => {
    const block = `[[ ${ipa.replaceAll("]]", "")} ]]`;
    const count = [...block].length;
    append(block, new Array(count).fill(start), new Array(count).fill(end));
  };
  for (const segment of segments) {
    switch (segment.kind) {
      case "text": {
        runFor(segment);
        for (const piece of pronunciations.apply(segment.text, segment.source)) {
          if ("phonemes" in piece) appendPhonemes(piece.phonemes, piece.source.start, piece.source.end);
          // Only lexicons and <phoneme> give IPA: "[[" written in the text is not a block.
          else append(piece.text.replaceAll("[[", "[ "), piece.source.starts, piece.source.ends);
        }
        break;
      }
      case "phonemes":
        runFor(segment);
        appendPhonemes(segment.ipa, segment.source.start, segment.source.end);
        break;
      case "break":
        run = undefined;
        items.push({ kind: "break", seconds: segment.seconds });
        break;
      case "boundary":
        run = undefined;
        break;
      case "mark":
        if (run) run.marks.push({ name: segment.name, offset: length });
        else items.push({ kind: "mark", name: segment.name });
        break;
    }
  }
  return items;
}

function sameSpeaking(run: ScriptRun, segment: { prosody: Prosody; voice?: string; language?: string }): boolean {
  return (
    run.voice === segment.voice &&
    run.language === segment.language &&
    run.prosody.rate === segment.prosody.rate &&
    run.prosody.pitchSemitones === segment.prosody.pitchSemitones &&
    run.prosody.volumeDb === segment.prosody.volumeDb
  );
}
