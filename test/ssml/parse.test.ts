/**
 * SSML → speech script: each supported tag's segments, offsets that name the client's own
 * substrings, and refusals (malformed, hostile or unsupported input) with the exact error.
 */
import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/errors/index.js";
import {
  MAX_SSML_DEPTH,
  MAX_SSML_ELEMENTS,
  parseSsml,
  type ScriptSegment,
  SILENT_DB,
  type SourceSpan,
  type TextSegment,
} from "../../src/ssml/index.js";

const NORMAL = { rate: 1, pitchSemitones: 0, volumeDb: 0 };

/** The document's code points [start, end) as a string. */
function slice(ssml: string, span: SourceSpan): string {
  return Array.from(ssml).slice(span.start, span.end).join("");
}

function texts(ssml: string): TextSegment[] {
  return parseSsml(ssml).segments.filter((segment): segment is TextSegment => segment.kind === "text");
}

/** The segments without source maps, to compare what is said. */
function said(ssml: string): unknown[] {
  return parseSsml(ssml).segments.map((segment: ScriptSegment) => {
    if (segment.kind === "boundary") return segment;
    const { source: _source, ...rest } = segment;
    return rest;
  });
}

function errorOf(ssml: string): string {
  try {
    parseSsml(ssml);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe("ssml");
    return (error as InvalidArgumentError).problem;
  }
  throw new Error(`accepted: ${ssml.slice(0, 80)}`);
}

describe("tags", () => {
  it("<speak> text is one text segment; xml:lang is the document's language", () => {
    const script = parseSsml('<speak version="1.1" xml:lang="en-US" xmlns="http://www.w3.org/2001/10/synthesis">Hello world</speak>');
    expect(script.language).toBe("en-US");
    expect(script.segments).toEqual([{ kind: "text", text: "Hello world", source: expect.anything(), prosody: NORMAL, language: "en-US" }]);
  });

  it("<p> and <s> are boundaries, collapsed, never first or last", () => {
    expect(said("<speak><p><s>One</s><s>Two</s></p><p>Three</p></speak>")).toEqual([
      { kind: "text", text: "One", prosody: NORMAL },
      { kind: "boundary", type: "sentence" },
      { kind: "text", text: "Two", prosody: NORMAL },
      { kind: "boundary", type: "paragraph" },
      { kind: "text", text: "Three", prosody: NORMAL },
    ]);
  });

  it("<break>: time wins over strength; strengths and the default are the documented seconds; none adds nothing", () => {
    const breaks = parseSsml(
      '<speak>a<break time="500ms" strength="x-strong"/>b<break time="1.5s"/>c<break strength="x-weak"/>d<break/>e<break strength="x-strong"/>f<break strength="none"/>g</speak>',
    ).segments.flatMap((segment) => (segment.kind === "break" ? [segment.seconds] : []));
    expect(breaks).toEqual([0.5, 1.5, 0.25, 0.75, 1.25]);
  });

  it("<prosody>: percentages, named values, semitones and dB; nested rates multiply and shifts add", () => {
    const [outer, inner, named] = texts(
      '<speak><prosody rate="80%" pitch="+2st" volume="-6dB">a<prosody rate="150%" pitch="-10%" volume="+3dB">b</prosody></prosody><prosody rate="x-slow" pitch="x-high" volume="silent">c</prosody></speak>',
    );
    expect(outer!.prosody).toEqual({ rate: 0.8, pitchSemitones: 2, volumeDb: -6 });
    expect(inner!.prosody.rate).toBeCloseTo(1.2, 9);
    expect(inner!.prosody.pitchSemitones).toBeCloseTo(2 + 12 * Math.log2(0.9), 9);
    expect(inner!.prosody.volumeDb).toBe(-3);
    expect(named!.prosody).toEqual({ rate: 0.5, pitchSemitones: 6, volumeDb: SILENT_DB });
  });

  it("<emphasis>: slower and louder for strong, faster and softer for reduced", () => {
    const [strong, moderate, reduced, none] = texts(
      '<speak><emphasis level="strong">a</emphasis> <emphasis>b</emphasis> <emphasis level="reduced">c</emphasis> <emphasis level="none">d</emphasis></speak>',
    );
    expect(strong!.prosody).toEqual({ rate: 0.85, pitchSemitones: 0, volumeDb: 4 });
    expect(moderate!.prosody).toEqual({ rate: 0.92, pitchSemitones: 0, volumeDb: 2 });
    expect(reduced!.prosody).toEqual({ rate: 1.1, pitchSemitones: 0, volumeDb: -4 });
    // "none" changes nothing, so "d" joins the normal text before it.
    expect(none!.text).toBe(" d");
  });

  it("<sub alias> speaks the alias; <phoneme> gives raw IPA; <voice> and <lang> set voice and language; <mark> is a mark", () => {
    const ssml =
      '<speak><sub alias="text to speech">TTS</sub> <phoneme alphabet="ipa" ph="təˈmɑːtoʊ">tomato</phoneme><voice name="en_GB-alan-low">hi<lang xml:lang="fr-FR">bonjour</lang></voice><mark name="end"/></speak>';
    const script = parseSsml(ssml);
    expect(said(ssml)).toEqual([
      { kind: "text", text: "text to speech ", prosody: NORMAL },
      { kind: "phonemes", ipa: "təˈmɑːtoʊ", prosody: NORMAL },
      { kind: "text", text: "hi", prosody: NORMAL, voice: "en_GB-alan-low" },
      { kind: "text", text: "bonjour", prosody: NORMAL, voice: "en_GB-alan-low", language: "fr-FR" },
      { kind: "mark", name: "end" },
    ]);
    expect(script.marks).toEqual(["end"]);
  });

  it("<say-as> speaks its expansion", () => {
    expect(texts('<speak><say-as interpret-as="ordinal">3</say-as></speak>')[0]!.text).toBe("3rd");
    expect(texts('<speak><say-as interpret-as="date" format="dmy">05/03/2024</say-as></speak>')[0]!.text).toBe("March 5th, 20 24");
  });

  it("<audio> speaks its fallback content, <desc> and <meta> are not spoken, vendor tags speak their content", () => {
    expect(
      texts(
        '<speak><meta name="a" content="b"/><audio src="https://example.com/x.mp3">fallback<desc>a door</desc></audio> <amazon:effect name="whispered">quiet</amazon:effect></speak>',
      ).map((segment) => segment.text),
    ).toEqual(["fallback quiet"]);
  });

  it("comments and processing instructions are skipped without splitting a word; CDATA is text", () => {
    expect(texts('<?xml version="1.0"?><speak>wo<!-- note -->rd <?app x?>and <![CDATA[<raw> & ]]>more</speak>')[0]!.text).toBe(
      "word and <raw> & more",
    );
  });

  it("an empty <speak> has nothing to say (the engine decides what that means)", () => {
    expect(parseSsml("<speak/>")).toEqual({ segments: [], marks: [] });
  });

  it("SSML 1.1 attributes the engine cannot honour, and prefixed ones, are accepted and change nothing", () => {
    expect(
      said(
        '<speak xmlns:amazon="https://amazon.com" xml:base="x"><voice gender="female" amazon:engine="neural"><prosody contour="(0%,+20Hz)" range="x-high">hi</prosody></voice></speak>',
      ),
    ).toEqual([{ kind: "text", text: "hi", prosody: NORMAL }]);
  });

  it("whitespace-only text between elements is not a segment", () => {
    expect(said("<speak>\n  <s>a</s>\n  <s>b</s>\n</speak>")).toEqual([
      { kind: "text", text: "a", prosody: NORMAL },
      { kind: "boundary", type: "sentence" },
      { kind: "text", text: "b", prosody: NORMAL },
    ]);
  });
});

describe("offsets are code points of the document as sent", () => {
  const ssml =
    '\uFEFF<speak>Caf\u00E9 &amp; 😀 &#x41;\r\nok <sub alias="SSML">s</sub> <say-as interpret-as="digits">42</say-as> <break time="1s"/><phoneme ph="a">x</phoneme><mark name="m"/></speak>';
  const script = parseSsml(ssml);
  const text = script.segments[0] as TextSegment;

  it("each code point maps to what the client wrote for it", () => {
    const written = Array.from(text.text).map((_, i) => slice(ssml, { start: text.source.starts[i]!, end: text.source.ends[i]! }));
    expect(written.slice(0, 14)).toEqual(["C", "a", "f", "é", " ", "&amp;", " ", "😀", " ", "&#x41;", "\r\n", "o", "k", " "]);
    expect(Array.from(text.text)).toHaveLength(text.source.starts.length);
  });

  it("an alias maps to the whole <sub>, an expansion to the <say-as> content", () => {
    const alias = text.text.indexOf("SSML");
    expect(slice(ssml, { start: text.source.starts[Array.from(text.text.slice(0, alias)).length]!, end: text.source.ends[alias]! })).toBe(
      '<sub alias="SSML">s</sub>',
    );
    const digits = Array.from(text.text).lastIndexOf("4");
    expect(slice(ssml, { start: text.source.starts[digits]!, end: text.source.ends[digits]! })).toBe("42");
  });

  it("breaks, phonemes and marks span their elements", () => {
    const spans = script.segments.flatMap((segment) =>
      segment.kind !== "text" && segment.kind !== "boundary" ? [slice(ssml, segment.source)] : [],
    );
    expect(spans).toEqual(['<break time="1s"/>', '<phoneme ph="a">x</phoneme>', '<mark name="m"/>']);
  });
});

describe("refused documents", () => {
  const cases: [string, string, string][] = [
    ["unclosed tag", "<speak>Hello", "line 1, column 12: <speak> is not closed; expected </speak> before the end"],
    ["unclosed inner tag", "<speak><s>Hello</speak>", "line 1, column 23: </speak> does not match the open <s>; expected </s>"],
    ["mismatched tags", "<speak><p>a</s></p></speak>", "line 1, column 15: </s> does not match the open <p>; expected </p>"],
    ["stray closing tag", "<speak>a</speak></p>", "line 1, column 20: </p> closes no open element"],
    ["text outside speak", "<speak>a</speak>b", "line 1, column 17: text outside <speak>; the document must be one <speak> element"],
    ["text before speak", "hello <speak>a</speak>", "line 1, column 7: text outside <speak>; the document must be one <speak> element"],
    ["two roots", "<speak>a</speak><speak>b</speak>", "line 1, column 23: a second root element; the document must be one <speak> element"],
    ["another root", "<voice>a</voice>", "line 1, column 1: the root element must be <speak>, found <voice>"],
    ["empty document", "", "line 1, column 1: expected a <speak> element; the document has none"],
    ["whitespace only", "  \n ", "line 2, column 1: expected a <speak> element; the document has none"],
    ["BOM only", "\uFEFF", "line 1, column 1: expected a <speak> element; the document has none"],
    [
      "unknown tag",
      "<speak><brake/></speak>",
      "line 1, column 8: <brake> is not a supported SSML element; supported: speak, p, paragraph, s, sentence, break, prosody, emphasis, say-as, sub, phoneme, lang, voice, mark, audio, token, w, desc, meta, metadata",
    ],
    [
      "lexicon tag",
      '<speak><lexicon uri="http://x/l.pls"/></speak>',
      "line 1, column 8: <lexicon> is not supported: name the server's lexicons in the request's config instead",
    ],
    ["unknown attribute", '<speak><break tme="2s"/></speak>', 'line 1, column 8: <break> has no attribute "tme"; allowed: time, strength'],
    [
      "bad break time",
      '<speak><break time="2 seconds"/></speak>',
      'line 1, column 8: <break>: expected a duration such as "500ms" or "2s"',
    ],
    [
      "bad break strength",
      '<speak><break strength="huge"/></speak>',
      "line 1, column 8: <break>: expected one of none, x-weak, weak, medium, strong, x-strong",
    ],
    [
      "huge break",
      '<speak><break time="1000000s"/></speak>',
      "line 1, column 8: <break>: a break of 1000000 s is too long; allowed 0 to 10 s",
    ],
    [
      "breaks past the total",
      `<speak>${'<break time="10s"/>'.repeat(7)}</speak>`,
      "line 1, column 122: <break>: the breaks add up to more than 60 s; allowed at most 60 s in one document",
    ],
    ["break with content", "<speak><break>a</break></speak>", "line 1, column 8: <break> must be empty"],
    [
      "bad rate",
      '<speak><prosody rate="fast-ish">a</prosody></speak>',
      'line 1, column 8: <prosody rate="fast-ish">: expected a percentage such as "80%" or "+10%", a multiplier such as "1.2", or one of x-slow, slow, medium, default, fast, x-fast',
    ],
    [
      "rate out of range",
      '<speak><prosody rate="300%">a</prosody></speak>',
      "line 1, column 8: <prosody>: rate: the speaking rate would be 3× normal (nested rates multiply); allowed 0.5× to 2× (50% to 200%)",
    ],
    [
      "nested rates out of range",
      '<speak><prosody rate="x-fast"><prosody rate="150%">a</prosody></prosody></speak>',
      "line 1, column 31: <prosody>: rate: the speaking rate would be 3× normal (nested rates multiply); allowed 0.5× to 2× (50% to 200%)",
    ],
    [
      "pitch in hertz",
      '<speak><prosody pitch="+80Hz">a</prosody></speak>',
      'line 1, column 8: <prosody pitch="+80Hz">: expected semitones such as "+2st", a relative change such as "-10%", or one of x-low, low, medium, default, high, x-high',
    ],
    [
      "pitch out of range",
      '<speak><prosody pitch="+13st">a</prosody></speak>',
      "line 1, column 8: <prosody>: pitch: the pitch would shift 13 semitones (nested shifts add); allowed -12st to +12st",
    ],
    [
      "volume out of range",
      '<speak><prosody volume="+20dB">a</prosody></speak>',
      'line 1, column 8: <prosody>: volume: the gain would be 20 dB (nested gains add); allowed -40dB to +12dB, or "silent"',
    ],
    [
      "bad emphasis",
      '<speak><emphasis level="max">a</emphasis></speak>',
      'line 1, column 8: <emphasis level="max">: expected one of strong, moderate, none, reduced',
    ],
    [
      "other phoneme alphabet",
      '<speak><phoneme alphabet="x-sampa" ph="t@\'mA:toU">t</phoneme></speak>',
      'line 1, column 8: <phoneme alphabet="x-sampa">: only "ipa" is supported',
    ],
    ["phoneme without ph", "<speak><phoneme>t</phoneme></speak>", 'line 1, column 8: <phoneme> needs a non-empty "ph" attribute'],
    [
      "unknown interpret-as",
      '<speak><say-as interpret-as="currency">$5</say-as></speak>',
      'line 1, column 8: <say-as interpret-as="currency">: expected one of characters, spell-out, verbatim, cardinal, number, ordinal, digits, telephone, date, time',
    ],
    [
      "bad date",
      '<speak><say-as interpret-as="date" format="mdy">13/45/2024</say-as></speak>',
      "line 1, column 8: <say-as>: month 13 is out of range; allowed 1 to 12",
    ],
    [
      "element inside say-as",
      '<speak><say-as interpret-as="digits">1<break/>2</say-as></speak>',
      "line 1, column 39: <say-as> may contain only text, found <break>",
    ],
    ["mark without name", "<speak><mark/></speak>", 'line 1, column 8: <mark> needs a non-empty "name" attribute'],
    [
      "bad xml:lang",
      '<speak xml:lang="english!">a</speak>',
      'line 1, column 1: <speak xml:lang="english!">: expected a language tag such as "en-US"',
    ],
    ["bad version", '<speak version="2.0">a</speak>', 'line 1, column 1: <speak version="2.0">: expected "1.0" or "1.1"'],
    [
      "undefined entity",
      "<speak>a &nbsp; b</speak>",
      "line 1, column 15: undefined entity &nbsp;; allowed: &amp; &lt; &gt; &quot; &apos; and character references such as &#233;",
    ],
    ["bare ampersand", "<speak>fish & chips</speak>", 'line 1, column 13: an "&" that starts no entity; write & as &amp;'],
    [
      "billion laughs",
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><speak>&lol2;</speak>',
      "line 1, column 125: a DOCTYPE is not allowed (no DTD, entity declarations or external entities are read)",
    ],
    [
      "external entity",
      '<!DOCTYPE speak [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><speak>&xxe;</speak>',
      "line 1, column 60: a DOCTYPE is not allowed (no DTD, entity declarations or external entities are read)",
    ],
    [
      "control character",
      "<speak>a\u0001b</speak>",
      "line 1, column 9: a character XML does not allow (a control character, a lone surrogate or U+FFFE/U+FFFF)",
    ],
    ["lone surrogate", "<speak>a\uD800b</speak>", "line 1, column 9: a lone surrogate (U+D800 to U+DFFF), which is no character"],
    [
      "reference to NUL",
      "<speak>&#0;</speak>",
      "line 1, column 11: a character reference to a character XML does not allow, or malformed; expected e.g. &#233; or &#xE9;",
    ],
    ["malformed comment", "<speak><!-- a -- b --></speak>", 'line 1, column 17: a malformed comment; a comment may not contain "--"'],
    [
      "unquoted attribute",
      "<speak><break time=2s/></speak>",
      'line 1, column 20: an attribute value without quotes; expected name="value"',
    ],
    [
      "duplicate attribute",
      '<speak><break time="1s" time="2s"/></speak>',
      "line 1, column 35: not well-formed XML (duplicate attribute: time)",
    ],
    [
      "CDATA outside root",
      "<![CDATA[x]]><speak>a</speak>",
      "line 1, column 9: text outside <speak>; the document must be one <speak> element",
    ],
  ];

  it.each(cases)("%s", (_name, ssml, message) => {
    expect(errorOf(ssml)).toBe(message);
  });

  it(`nesting deeper than ${MAX_SSML_DEPTH} stops at the limit (10,000 levels, never closed)`, () => {
    const ssml = `<speak>${"<prosody>".repeat(10_000)}a`;
    expect(errorOf(ssml)).toBe(
      `line 1, column ${8 + 9 * (MAX_SSML_DEPTH - 1)}: elements are nested more than ${MAX_SSML_DEPTH} deep; allowed at most ${MAX_SSML_DEPTH}`,
    );
  });

  it(`more than ${MAX_SSML_ELEMENTS} elements stops at the limit (100,000 elements, the last one malformed)`, () => {
    const ssml = `<speak>${"<s>a</s>".repeat(100_000)}<s></speak>`;
    // Were the whole input read, the mismatched tag at its end would be the error.
    expect(errorOf(ssml)).toBe(
      `line 1, column ${8 + 8 * (MAX_SSML_ELEMENTS - 1)}: more than ${MAX_SSML_ELEMENTS} elements; allowed at most ${MAX_SSML_ELEMENTS}`,
    );
  });

  it("the line and column of an error on a later line count code points", () => {
    expect(errorOf('<speak>\n😀😀 <break time="x"/></speak>')).toBe(
      'line 2, column 4: <break>: expected a duration such as "500ms" or "2s"',
    );
  });
});
