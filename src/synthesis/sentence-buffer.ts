/**
 * Text that arrives in pieces, cut into the sentences the engine would find in the whole
 * text. The engine (espeak-ng, as Piper) decides where a sentence ends, and it decides some
 * ends by the next character: "Dr. smith" or "3.14" go on, "Hello. How" does not. So a
 * sentence is taken as soon as a character after it is in the buffer and the engine still
 * ends it there; one that ends the buffer is only probable until that character comes.
 */
import type { TextClause } from "../engine/index.js";

/** A piece of an utterance's text to speak, with where it starts in all of its text. */
export interface TextSegment {
  text: string;
  /** Code points of the utterance's text before this segment. */
  start: number;
}

export class SentenceBuffer {
  private text = "";
  /** Code points of the utterance's text taken before the buffer. */
  private taken = 0;

  constructor(private readonly clausesOf: (text: string) => TextClause[]) {}

  append(text: string): void {
    this.text += text;
  }

  /** Code points waiting in the buffer. */
  get length(): number {
    return codePoints(this.text);
  }

  get empty(): boolean {
    return this.text.trim().length === 0;
  }

  /** Every sentence whose end is certain, each its own segment, in order. */
  takeCertain(): TextSegment[] {
    const segments: TextSegment[] = [];
    let start = 0;
    for (const clause of this.clausesOf(this.text)) {
      if (!clause.endsSentence) continue;
      if (!/\S/.test(this.text.slice(clause.end))) break;
      segments.push(this.segment(start, clause.end));
      start = clause.end;
    }
    this.drop(start);
    return segments;
  }

  /** Whether the buffer ends with a sentence end that the next character could still undo. */
  endsWithProbableSentence(): boolean {
    const last = this.clausesOf(this.text).at(-1);
    return last?.endsSentence === true && !/\S/.test(this.text.slice(last.end));
  }

  /** Everything buffered, left in the buffer. */
  peek(): string {
    return this.text;
  }

  /** Everything buffered, as one segment (undefined when it is only whitespace). */
  takeAll(): TextSegment | undefined {
    return this.takeThrough(this.text.length);
  }

  /**
   * At most `maxCodePoints` of the buffer, cut after its last clause end (a comma, a
   * semicolon) or else its last space, so a long clause is spoken without waiting for the
   * end of its sentence.
   */
  takeAtMost(maxCodePoints: number): TextSegment | undefined {
    const limit = utf16Offset(this.text, maxCodePoints);
    const clauseEnd = this.clausesOf(this.text.slice(0, limit))
      .filter((clause) => clause.end < limit)
      .at(-1)?.end;
    const space = this.text.slice(0, limit).search(/\s\S*$/);
    return this.takeThrough(clauseEnd ?? (space > 0 ? space : limit));
  }

  /**
   * Counts `text` as the utterance's next input, spoken apart from the buffer (an SSML
   * document), once the buffer was taken; returns where it starts in all of the input.
   */
  skip(text: string): number {
    const start = this.taken + codePoints(this.text);
    this.taken = start + codePoints(text);
    return start;
  }

  private takeThrough(end: number): TextSegment | undefined {
    const segment = this.segment(0, end);
    this.drop(end);
    return segment.text.trim().length > 0 ? segment : undefined;
  }

  private segment(from: number, to: number): TextSegment {
    return { text: this.text.slice(from, to), start: this.taken + codePoints(this.text.slice(0, from)) };
  }

  private drop(end: number): void {
    this.taken += codePoints(this.text.slice(0, end));
    this.text = this.text.slice(end);
  }
}

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** The UTF-16 offset of the code point at `index` (the end when the text is shorter). */
function utf16Offset(text: string, index: number): number {
  let offset = 0;
  let count = 0;
  for (const char of text) {
    if (count === index) break;
    offset += char.length;
    count++;
  }
  return offset;
}
