/**
 * SSML document → speech script (script.ts). The subset is what Google Cloud TTS, Amazon
 * Polly and Azure share:
 *
 * - `<speak>` (the root; `version` "1.0"/"1.1" and `xml:lang`), `<p>`/`<paragraph>`,
 *   `<s>`/`<sentence>`: boundaries; `xml:lang` on them sets the language.
 * - `<break time strength>`: silence (values.ts), at most MAX_BREAK_SECONDS each and
 *   MAX_TOTAL_BREAK_SECONDS in all.
 * - `<prosody rate pitch volume>`, `<emphasis level>`: composed prosody (values.ts).
 * - `<say-as interpret-as format detail>`: say-as.ts; `detail` is accepted and unused.
 * - `<sub alias>`, `<phoneme alphabet="ipa" ph>`, `<lang xml:lang>`, `<voice name xml:lang>`, `<mark name>`.
 *
 * Everything else, decided by what SSML 1.1 prescribes and the vendors do:
 * - spoken as if the tag were absent: `<audio>` (SSML 1.1 §3.3.1: when the audio cannot be
 *   played its content is rendered; this service never fetches `src`), `<token>`/`<w>`, and
 *   any tag with a prefix (`amazon:effect`, `mstts:express-as`): vendor extensions degrade
 *   to their text instead of failing a document written for another vendor;
 * - not spoken: `<desc>` (audio's description), `<meta>`, `<metadata>`; their content is
 *   neither spoken nor checked;
 * - refused (INVALID_ARGUMENT naming the tag): `<lexicon>` and `<lookup>` (lexicons are
 *   the request's config, never fetched from a URI), and any other tag without a prefix,
 *   so a typo (`<brake>`) is not silently read as text.
 * Attributes: those listed above; SSML 1.1 attributes this engine cannot honour are
 * accepted and ignored (prosody `contour` `range` `duration`; voice `gender` `age`
 * `variant` `languages` `required` `ordering` `onvoicefailure`; audio's fetch and clip
 * attributes); prefixed ones (`xmlns:*`, `xml:base`, vendors') and `xmlns` are ignored;
 * any other is refused, naming it and the allowed ones.
 *
 * XML: comments and processing instructions are skipped, CDATA is text, the five
 * predefined entities and character references are decoded; a DOCTYPE (and so any entity
 * declaration: billion laughs, external entities) is refused, and so is any other entity.
 * Errors are InvalidArgumentError("ssml", "line L, column C: ..."); columns count code
 * points from 1, and a well-formedness error points at the character where it was found.
 *
 * The parser is saxes (strict XML 1.0 with well-formedness checks, line and column on
 * every error, no DTD processing: it never expands a declared entity nor fetches an
 * external one). Its events are synchronous, so a limit raised in a handler stops the
 * parse there: a 10k-deep or 100k-element document is refused at the limit, not walked.
 * fast-xml-parser was the other candidate; it builds a whole tree first and its DOCTYPE
 * entity handling is opt-out rather than absent.
 */
import { SaxesParser, type SaxesTagPlain } from "saxes";
import { InvalidArgumentError } from "../errors/index.js";
import { expandSayAs, INTERPRET_AS, isInterpretAs } from "./say-as.js";
import type { ScriptSegment, SourceSpan, Speaking, SpeechScript } from "./script.js";
import { appendMapped, CodePoints, decodeCharacterData, type MappedText, mapAllTo } from "./source.js";
import {
  breakSeconds,
  breakStrengthSeconds,
  checkProsodyRange,
  composePitch,
  composeRate,
  composeVolume,
  EMPHASIS_PROSODY,
  MAX_TOTAL_BREAK_SECONDS,
  NORMAL_PROSODY,
  SILENT_DB,
  ValueProblem,
} from "./values.js";

/** Deepest element nesting accepted (`<speak>` is depth 1). */
export const MAX_SSML_DEPTH = 32;
/** Most elements one document may have. */
export const MAX_SSML_ELEMENTS = 10_000;
/** Longest `<mark name>`, `<voice name>` or `<phoneme ph>`, in code points. */
export const MAX_SSML_NAME_LENGTH = 256;

type Role =
  | "speak"
  | "paragraph"
  | "sentence"
  | "break"
  | "prosody"
  | "emphasis"
  | "say-as"
  | "sub"
  | "phoneme"
  | "lang"
  | "voice"
  | "mark"
  | "transparent"
  | "unspoken";

interface ElementRule {
  role: Role;
  attributes: readonly string[];
  /** SSML 1.1 attributes accepted and ignored. */
  ignored?: readonly string[];
}

const ELEMENTS: Readonly<Record<string, ElementRule>> = {
  speak: { role: "speak", attributes: ["version", "xml:lang"] },
  p: { role: "paragraph", attributes: ["xml:lang"] },
  paragraph: { role: "paragraph", attributes: ["xml:lang"] },
  s: { role: "sentence", attributes: ["xml:lang"] },
  sentence: { role: "sentence", attributes: ["xml:lang"] },
  break: { role: "break", attributes: ["time", "strength"] },
  prosody: { role: "prosody", attributes: ["rate", "pitch", "volume"], ignored: ["contour", "range", "duration"] },
  emphasis: { role: "emphasis", attributes: ["level"] },
  "say-as": { role: "say-as", attributes: ["interpret-as", "format", "detail"] },
  sub: { role: "sub", attributes: ["alias"] },
  phoneme: { role: "phoneme", attributes: ["alphabet", "ph"] },
  lang: { role: "lang", attributes: ["xml:lang"] },
  voice: {
    role: "voice",
    attributes: ["name", "xml:lang"],
    ignored: ["gender", "age", "variant", "languages", "required", "ordering", "onvoicefailure"],
  },
  mark: { role: "mark", attributes: ["name"] },
  audio: {
    role: "transparent",
    attributes: ["src"],
    ignored: ["fetchtimeout", "fetchhint", "maxage", "maxstale", "clipBegin", "clipEnd", "repeatCount", "repeatDur", "soundLevel", "speed"],
  },
  token: { role: "transparent", attributes: ["xml:lang", "role"] },
  w: { role: "transparent", attributes: ["xml:lang", "role"] },
  desc: { role: "unspoken", attributes: ["xml:lang"] },
  meta: { role: "unspoken", attributes: ["name", "content", "http-equiv"] },
  metadata: { role: "unspoken", attributes: [] },
};

/** Tags refused with a reason of their own. */
const REFUSED: Readonly<Record<string, string>> = {
  lexicon: "is not supported: name the server's lexicons in the request's config instead",
  lookup: "is not supported: name the server's lexicons in the request's config instead",
};

const VENDOR_ELEMENT: ElementRule = { role: "transparent", attributes: [] };
// saxes lets UTF-16 halves without their pair through; they are no Unicode character.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** A well-formed entity or character reference where an "&" stands. */
const REFERENCE = /^&(#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z_:][\w.:-]*);/;
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

interface Position {
  line: number;
  column: number;
}

interface Frame extends Position {
  name: string;
  role: Role;
  attributes: Record<string, string>;
  speaking: Speaking;
  /** Code point offset of the element's "<". */
  start: number;
  /** Code point offset just after the start tag. */
  contentStart: number;
  /** The text of a `<say-as>`, `<sub>` or `<phoneme>`; `<break>` and `<mark>` must stay empty. */
  content: MappedText;
}

/**
 * Parses an SSML document into a speech script. Throws InvalidArgumentError("ssml", ...)
 * for a malformed or refused document; the size is the caller's to bound (MAX_TEXT_LENGTH).
 */
export function parseSsml(ssml: string): SpeechScript {
  return new ScriptBuilder(ssml).build();
}

class ScriptBuilder {
  private readonly parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  private readonly codePoints: CodePoints;
  private readonly stack: Frame[] = [];
  private readonly segments: ScriptSegment[] = [];
  private readonly marks: string[] = [];
  private language: string | undefined;
  /** UTF-16 index just after the last markup read: character data starts there. */
  private lastMarkupEnd = 0;
  private elementCount = 0;
  private breakSeconds = 0;
  private pendingStart: (Position & { start: number }) | undefined;

  constructor(private readonly source: string) {
    this.codePoints = new CodePoints(source);
  }

  build(): SpeechScript {
    const parser = this.parser;
    parser.on("error", (error) => this.failXml(error));
    parser.on("doctype", () =>
      this.fail(this.here(), "a DOCTYPE is not allowed (no DTD, entity declarations or external entities are read)"),
    );
    parser.on("opentagstart", (tag) => this.openTagStart(tag.name));
    parser.on("opentag", (tag) => this.openTag(tag));
    parser.on("closetag", (tag) => this.closeTag(tag));
    parser.on("text", (text) => this.text(text));
    parser.on("cdata", (data) => this.cdata(data));
    // Where a comment or processing instruction ends is found in the source: saxes may
    // report them before it has read their last character.
    parser.on("comment", () => this.skipMarkup("<!--", "-->"));
    parser.on("processinginstruction", () => this.skipMarkup("<?", "?>"));
    parser.on("xmldecl", () => this.skipMarkup("<?", "?>"));
    const surrogate = LONE_SURROGATE.exec(this.source);
    if (surrogate) this.fail(this.codePoints.lineColumn(surrogate.index), "a lone surrogate (U+D800 to U+DFFF), which is no character");
    parser.write(this.source).close();
    return { segments: tidy(this.segments), marks: this.marks, ...(this.language ? { language: this.language } : {}) };
  }

  private openTagStart(name: string): void {
    this.elementCount += 1;
    const tagIndex = this.source.indexOf("<", this.lastMarkupEnd);
    const at = { ...this.codePoints.lineColumn(tagIndex), start: this.codePoints.at(tagIndex) };
    if (this.stack.length === 0 && name !== "speak") this.fail(at, `the root element must be <speak>, found <${name}>`);
    if (this.stack.length + 1 > MAX_SSML_DEPTH)
      this.fail(at, `elements are nested more than ${MAX_SSML_DEPTH} deep; allowed at most ${MAX_SSML_DEPTH}`);
    if (this.elementCount > MAX_SSML_ELEMENTS)
      this.fail(at, `more than ${MAX_SSML_ELEMENTS} elements; allowed at most ${MAX_SSML_ELEMENTS}`);
    this.pendingStart = at;
  }

  private openTag(tag: SaxesTagPlain): void {
    const at = this.pendingStart!;
    this.lastMarkupEnd = this.parser.position;
    const parent = this.stack[this.stack.length - 1];
    const frame: Frame = {
      ...at,
      name: tag.name,
      role: "transparent",
      attributes: tag.attributes,
      speaking: parent ? parent.speaking : { prosody: NORMAL_PROSODY },
      contentStart: this.codePoints.at(this.parser.position),
      content: { text: "", source: { starts: [], ends: [] } },
    };
    if (parent?.role === "unspoken") {
      frame.role = "unspoken";
      this.stack.push(frame);
      return;
    }
    if (parent?.role === "break" || parent?.role === "mark") this.fail(at, `<${parent.name}> must be empty, found <${tag.name}> in it`);
    if (parent && isTextOnly(parent.role)) this.fail(at, `<${parent.name}> may contain only text, found <${tag.name}>`);
    const rule = this.ruleFor(tag.name, at);
    frame.role = rule.role;
    this.checkAttributes(tag, rule, at);
    frame.speaking = this.speakingInside(frame, at);
    this.stack.push(frame);
    if (rule.role === "paragraph" || rule.role === "sentence") this.boundary(rule.role);
  }

  private closeTag(tag: SaxesTagPlain): void {
    if (!tag.isSelfClosing) {
      const written = this.closingTagName();
      if (written !== tag.name) this.fail(this.here(), `</${written}> does not match the open <${tag.name}>; expected </${tag.name}>`);
    }
    const frame = this.stack.pop()!;
    // Content end before element end: CodePoints is linear only over increasing queries.
    const contentEnd = tag.isSelfClosing ? frame.contentStart : this.codePoints.at(this.source.indexOf("<", this.lastMarkupEnd));
    const end = this.codePoints.at(this.parser.position);
    this.lastMarkupEnd = this.parser.position;
    const span = { start: frame.start, end };
    const attributes = frame.attributes;
    switch (frame.role) {
      case "paragraph":
      case "sentence":
        this.boundary(frame.role);
        return;
      case "break":
        this.addBreak(frame, span);
        return;
      case "mark":
        this.segments.push({ kind: "mark", name: attributes.name!, source: span });
        this.marks.push(attributes.name!);
        return;
      case "sub":
        this.speak(mapAllTo(attributes.alias!, span.start, span.end), frame.speaking);
        return;
      case "phoneme":
        this.segments.push({ kind: "phonemes", ipa: attributes.ph!.trim(), source: span, ...frame.speaking });
        return;
      case "say-as": {
        const interpretAs = attributes["interpret-as"]!;
        if (!isInterpretAs(interpretAs)) throw new Error(`unchecked interpret-as ${interpretAs}`);
        const expansion = this.attempt(frame, () => expandSayAs(interpretAs, frame.content.text, attributes.format));
        this.speak(mapAllTo(expansion, frame.contentStart, contentEnd), frame.speaking);
        return;
      }
    }
  }

  private text(text: string): void {
    const frame = this.stack[this.stack.length - 1];
    if (!frame) return; // whitespace around the root; saxes refuses anything else there
    const end = this.source.indexOf("<", this.lastMarkupEnd);
    const mapped = decodeCharacterData(this.source, this.lastMarkupEnd, end < 0 ? this.source.length : end, this.codePoints, true);
    if (mapped.text !== text) throw new Error(`SSML text decoded as ${JSON.stringify(mapped.text)}, saxes read ${JSON.stringify(text)}`);
    this.content(frame, mapped);
  }

  private cdata(data: string): void {
    const start = this.source.indexOf("<![CDATA[", this.lastMarkupEnd) + "<![CDATA[".length;
    const end = this.source.indexOf("]]>", start);
    this.lastMarkupEnd = end + "]]>".length;
    const mapped = decodeCharacterData(this.source, start, end, this.codePoints, false);
    if (mapped.text !== data) throw new Error(`SSML CDATA decoded as ${JSON.stringify(mapped.text)}, saxes read ${JSON.stringify(data)}`);
    this.content(this.stack[this.stack.length - 1]!, mapped);
  }

  private content(frame: Frame, mapped: MappedText): void {
    if (frame.role === "unspoken") return;
    if (frame.role === "break" || frame.role === "mark") {
      if (mapped.text.trim() !== "") this.fail(frame, `<${frame.name}> must be empty`);
      return;
    }
    if (isTextOnly(frame.role)) appendMapped(frame.content, mapped);
    else this.speak(mapped, frame.speaking);
  }

  private speak(mapped: MappedText, speaking: Speaking): void {
    if (mapped.text === "") return;
    const last = this.segments[this.segments.length - 1];
    if (last?.kind === "text" && sameSpeaking(last, speaking)) {
      appendMapped(last, mapped);
      return;
    }
    this.segments.push({ kind: "text", text: "", source: { starts: [], ends: [] }, ...speaking });
    appendMapped(this.segments[this.segments.length - 1] as MappedText, mapped);
  }

  private boundary(type: "paragraph" | "sentence"): void {
    const last = this.segments[this.segments.length - 1];
    if (last?.kind === "boundary") {
      if (type === "paragraph") last.type = "paragraph";
      return;
    }
    this.segments.push({ kind: "boundary", type });
  }

  private addBreak(frame: Frame, source: SourceSpan): void {
    const { time, strength } = frame.attributes;
    const seconds = this.attempt(frame, () =>
      time !== undefined ? breakSeconds(time) : strength !== undefined ? breakStrengthSeconds(strength) : breakStrengthSeconds("medium"),
    );
    this.breakSeconds += seconds;
    if (this.breakSeconds > MAX_TOTAL_BREAK_SECONDS + 1e-9) {
      this.fail(
        frame,
        `<break>: the breaks add up to more than ${MAX_TOTAL_BREAK_SECONDS} s; allowed at most ${MAX_TOTAL_BREAK_SECONDS} s in one document`,
      );
    }
    if (seconds > 0) this.segments.push({ kind: "break", seconds, source });
  }

  private ruleFor(name: string, at: Position): ElementRule {
    const rule = ELEMENTS[name];
    if (rule) return rule;
    const refused = REFUSED[name];
    if (refused) this.fail(at, `<${name}> ${refused}`);
    if (name.includes(":")) return VENDOR_ELEMENT;
    return this.fail(at, `<${name}> is not a supported SSML element; supported: ${Object.keys(ELEMENTS).join(", ")}`);
  }

  private checkAttributes(tag: SaxesTagPlain, rule: ElementRule, at: Position): void {
    for (const attribute of Object.keys(tag.attributes)) {
      if (rule.attributes.includes(attribute) || rule.ignored?.includes(attribute)) continue;
      if (attribute === "xmlns" || (attribute.includes(":") && attribute !== "xml:lang") || rule === VENDOR_ELEMENT) continue;
      const allowed = rule.attributes.length ? rule.attributes.join(", ") : "none";
      this.fail(at, `<${tag.name}> has no attribute "${attribute}"; allowed: ${allowed}`);
    }
    const value = (name: string) => tag.attributes[name];
    const required = (name: string) => {
      const given = value(name);
      if (given === undefined || given.trim() === "") this.fail(at, `<${tag.name}> needs a non-empty "${name}" attribute`);
      return given!;
    };
    const language = value("xml:lang");
    if (language !== undefined && !LANGUAGE_TAG.test(language)) {
      this.fail(at, `<${tag.name} xml:lang="${language}">: expected a language tag such as "en-US"`);
    }
    switch (rule.role) {
      case "speak": {
        const version = value("version");
        if (version !== undefined && version !== "1.0" && version !== "1.1")
          this.fail(at, `<speak version="${version}">: expected "1.0" or "1.1"`);
        return;
      }
      case "lang":
        required("xml:lang");
        return;
      case "mark":
      case "voice": {
        const name = rule.role === "mark" ? required("name") : value("name");
        if (name !== undefined && [...name].length > MAX_SSML_NAME_LENGTH) {
          this.fail(at, `<${tag.name}> name is ${[...name].length} characters long; allowed at most ${MAX_SSML_NAME_LENGTH}`);
        }
        return;
      }
      case "sub":
        required("alias");
        return;
      case "phoneme": {
        const alphabet = value("alphabet");
        if (alphabet !== undefined && alphabet !== "ipa") this.fail(at, `<phoneme alphabet="${alphabet}">: only "ipa" is supported`);
        const ph = required("ph");
        if ([...ph].length > MAX_SSML_NAME_LENGTH)
          this.fail(at, `<phoneme> ph is ${[...ph].length} characters long; allowed at most ${MAX_SSML_NAME_LENGTH}`);
        if (ph.includes("[[") || ph.includes("]]")) this.fail(at, `<phoneme> ph may not contain "[[" or "]]"`);
        return;
      }
      case "say-as": {
        const interpretAs = required("interpret-as");
        if (!isInterpretAs(interpretAs))
          this.fail(at, `<say-as interpret-as="${interpretAs}">: expected one of ${INTERPRET_AS.join(", ")}`);
        return;
      }
      case "emphasis": {
        const level = value("level");
        if (level !== undefined && !(level in EMPHASIS_PROSODY)) {
          this.fail(at, `<emphasis level="${level}">: expected one of ${Object.keys(EMPHASIS_PROSODY).join(", ")}`);
        }
        return;
      }
    }
  }

  /** Voice, language and prosody inside `frame`: the parent's, changed by the element. */
  private speakingInside(frame: Frame, at: Position): Speaking {
    const speaking: Speaking = { ...frame.speaking };
    const attributes = frame.attributes;
    if (attributes["xml:lang"] !== undefined) {
      speaking.language = attributes["xml:lang"];
      if (frame.role === "speak") this.language = speaking.language;
    }
    if (frame.role === "voice" && attributes.name !== undefined) speaking.voice = attributes.name;
    if (frame.role === "prosody") {
      const prosody = { ...speaking.prosody };
      for (const attribute of ["rate", "pitch", "volume"] as const) {
        const given = attributes[attribute];
        if (given === undefined) continue;
        const value = given.trim();
        try {
          if (attribute === "rate") prosody.rate = composeRate(value, prosody.rate);
          else if (attribute === "pitch") prosody.pitchSemitones = composePitch(value, prosody.pitchSemitones);
          else prosody.volumeDb = composeVolume(value, prosody.volumeDb);
        } catch (error) {
          if (error instanceof ValueProblem) this.fail(at, `<prosody ${attribute}="${given}">: ${error.message}`);
          throw error;
        }
      }
      this.attempt(frame, () => checkProsodyRange(prosody));
      speaking.prosody = prosody;
    }
    if (frame.role === "emphasis") {
      const change = EMPHASIS_PROSODY[attributes.level ?? "moderate"]!;
      const prosody = {
        ...speaking.prosody,
        rate: speaking.prosody.rate * change.rate,
        volumeDb: speaking.prosody.volumeDb === SILENT_DB ? SILENT_DB : speaking.prosody.volumeDb + change.volumeDb,
      };
      this.attempt(frame, () => checkProsodyRange(prosody));
      speaking.prosody = prosody;
    }
    return speaking;
  }

  /** Runs a value check, turning its ValueProblem into the element's error. */
  private attempt<T>(frame: Frame, check: () => T): T {
    try {
      return check();
    } catch (error) {
      if (error instanceof ValueProblem) this.fail(frame, `<${frame.name}>: ${error.message}`);
      throw error;
    }
  }

  private skipMarkup(open: string, close: string): void {
    const start = this.source.indexOf(open, this.lastMarkupEnd);
    this.lastMarkupEnd = this.source.indexOf(close, start + open.length) + close.length;
  }

  /** The name in the closing tag the parser has just read. */
  private closingTagName(): string {
    const start = this.source.lastIndexOf("</", this.parser.position - 1) + 2;
    return this.source.slice(start, this.source.indexOf(">", start)).trim();
  }

  /** Where the parser is: the line, and the 1-based column of the last character it read. */
  private here(): Position {
    return { line: this.parser.line, column: Math.max(1, this.parser.column) };
  }

  private fail(at: Position, problem: string): never {
    throw new InvalidArgumentError("ssml", `line ${at.line}, column ${at.column}: ${problem}`);
  }

  /** A well-formedness error from saxes, said in this service's words. */
  private failXml(error: Error): never {
    const problem = error.message.replace(/^\d+:\d+: /, "");
    const open = this.stack[this.stack.length - 1]?.name;
    const at = this.here();
    // saxes reads a bare "&" as the start of an entity running on past the text, and
    // reports whatever it stumbles on later; the "&" is the mistake.
    for (
      let amp = this.source.indexOf("&", this.lastMarkupEnd);
      amp >= 0 && amp < this.parser.position;
      amp = this.source.indexOf("&", amp + 1)
    ) {
      if (!REFERENCE.test(this.source.slice(amp, amp + 64))) {
        this.fail(this.codePoints.lineColumn(amp), `an "&" that starts no entity; write & as &amp;`);
      }
    }
    if (problem.startsWith("unclosed tag: "))
      this.fail(at, `<${problem.slice(14)}> is not closed; expected </${problem.slice(14)}> before the end`);
    if (problem.startsWith("unmatched closing tag: ") || problem === "unexpected close tag.") {
      const written = this.closingTagName();
      this.fail(at, open ? `</${written}> does not match the open <${open}>; expected </${open}>` : `</${written}> closes no open element`);
    }
    if (problem === "undefined entity.") {
      const amp = this.source.lastIndexOf("&", this.parser.position);
      const name = this.source.slice(amp, this.parser.position);
      this.fail(at, `undefined entity ${name}; allowed: &amp; &lt; &gt; &quot; &apos; and character references such as &#233;`);
    }
    const described = XML_PROBLEMS[problem];
    this.fail(at, described ?? `not well-formed XML (${problem.replace(/\.$/, "")})`);
  }
}

const XML_PROBLEMS: Readonly<Record<string, string>> = {
  "disallowed character.": "a character XML does not allow (a control character, a lone surrogate or U+FFFE/U+FFFF)",
  "text data outside of root node.": "text outside <speak>; the document must be one <speak> element",
  "document must contain a root element.": "expected a <speak> element; the document has none",
  "documents may contain only one root.": "a second root element; the document must be one <speak> element",
  "malformed character entity.": "a character reference to a character XML does not allow, or malformed; expected e.g. &#233; or &#xE9;",
  "unquoted attribute value.": 'an attribute value without quotes; expected name="value"',
  "attribute without value.": 'an attribute without a value; expected name="value"',
  "malformed comment.": 'a malformed comment; a comment may not contain "--"',
  "unexpected end.": "the document ends inside markup",
  "disallowed character in tag name.": "a character a tag name may not have",
  "disallowed character in tag name": "a character a tag name may not have",
  "disallowed character in closing tag.": "a character a closing tag may not have",
  "disallowed character in attribute name.": "a character an attribute name may not have",
  "no whitespace between attributes.": "no space between two attributes",
};

function isTextOnly(role: Role): boolean {
  return role === "say-as" || role === "sub" || role === "phoneme" || role === "break" || role === "mark";
}

function sameSpeaking(a: Speaking, b: Speaking): boolean {
  return (
    a.voice === b.voice &&
    a.language === b.language &&
    a.prosody.rate === b.prosody.rate &&
    a.prosody.pitchSemitones === b.prosody.pitchSemitones &&
    a.prosody.volumeDb === b.prosody.volumeDb
  );
}

/** Drops whitespace-only text, collapses boundaries and trims them from both ends. */
function tidy(segments: ScriptSegment[]): ScriptSegment[] {
  const tidied: ScriptSegment[] = [];
  for (const segment of segments) {
    if (segment.kind === "text" && segment.text.trim() === "") continue;
    const last = tidied[tidied.length - 1];
    if (segment.kind === "boundary") {
      if (!last) continue;
      if (last.kind === "boundary") {
        if (segment.type === "paragraph") last.type = "paragraph";
        continue;
      }
    }
    tidied.push(segment);
  }
  if (tidied[tidied.length - 1]?.kind === "boundary") tidied.pop();
  return tidied;
}
