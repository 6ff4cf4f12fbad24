/**
 * From the parser's positions (UTF-16 indices) to code point offsets, and from a stretch of
 * character data as written to its text with each code point's source span. The parser
 * (saxes) has already checked the stretch is well formed and gives its decoded text; this
 * redoes only the decoding XML 1.0 allows in character data (the five predefined entities,
 * character references, CR LF and CR read as LF) to learn where each code point came from,
 * and the caller checks both decodings agree.
 */
import type { SourceMap } from "./script.js";

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/**
 * Converts UTF-16 indices of one string to code point offsets and to lines and columns
 * (1-based, in code points; CR LF, CR and LF each end a line, as XML reads them). Linear
 * over increasing queries.
 */
export class CodePoints {
  private index = 0;
  private count = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly text: string) {}

  at(index: number): number {
    this.advance(index);
    return this.count;
  }

  lineColumn(index: number): { line: number; column: number } {
    this.advance(index);
    return { line: this.line, column: this.count - this.lineStart + 1 };
  }

  private advance(index: number): void {
    if (index < this.index) {
      this.index = 0;
      this.count = 0;
      this.line = 1;
      this.lineStart = 0;
    }
    while (this.index < index) {
      const code = this.text.charCodeAt(this.index);
      this.index += code >= 0xd800 && code <= 0xdbff && this.index + 1 < this.text.length ? 2 : 1;
      this.count += 1;
      if (code === 0x0a || (code === 0x0d && this.text.charCodeAt(this.index) !== 0x0a)) {
        this.line += 1;
        this.lineStart = this.count;
      }
    }
  }
}

export interface MappedText {
  text: string;
  source: SourceMap;
}

/**
 * Decodes `source.slice(start, end)`, character data the parser accepted. `references`:
 * whether `&...;` are references (text) or literal (CDATA).
 */
export function decodeCharacterData(source: string, start: number, end: number, codePoints: CodePoints, references: boolean): MappedText {
  let text = "";
  const starts: number[] = [];
  const ends: number[] = [];
  let offset = codePoints.at(start);
  for (let i = start; i < end; ) {
    const code = source.codePointAt(i)!;
    let char = String.fromCodePoint(code);
    let length = char.length;
    let width = 1;
    if (char === "&" && references) {
      const semicolon = source.indexOf(";", i);
      const name = source.slice(i + 1, semicolon);
      char = name.startsWith("#x")
        ? String.fromCodePoint(Number.parseInt(name.slice(2), 16))
        : name.startsWith("#")
          ? String.fromCodePoint(Number.parseInt(name.slice(1), 10))
          : PREDEFINED_ENTITIES[name]!;
      length = semicolon + 1 - i;
      width = length;
    } else if (char === "\r") {
      char = "\n";
      if (source[i + 1] === "\n") {
        length = 2;
        width = 2;
      }
    }
    text += char;
    starts.push(offset);
    ends.push(offset + width);
    offset += width;
    i += length;
  }
  return { text, source: { starts, ends } };
}

/** Appends `next` to `into`. */
export function appendMapped(into: MappedText, next: MappedText): void {
  into.text += next.text;
  // A loop, not push(...spread): a long text would pass more arguments than the stack holds.
  for (let i = 0; i < next.source.starts.length; i++) {
    into.source.starts.push(next.source.starts[i]!);
    into.source.ends.push(next.source.ends[i]!);
  }
}

/** `text` with every code point mapped to the same span (an alias, an expansion). */
export function mapAllTo(text: string, start: number, end: number): MappedText {
  const count = [...text].length;
  return { text, source: { starts: new Array<number>(count).fill(start), ends: new Array<number>(count).fill(end) } };
}
