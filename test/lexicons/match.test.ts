/**
 * Pronunciations applied to text: whole words, case, longest phrase first, precedence of
 * inline entries and lexicon order, no rematching, and pieces that map back to the text.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { planSpeech, readVoiceConfig } from "../../src/engine/index.js";
import { InvalidArgumentError } from "../../src/errors/index.js";
import { type InlinePronunciation, type Lexicon, type LexiconPiece, plainTextSource, Pronunciations } from "../../src/lexicons/index.js";
import { parsePls } from "../../src/lexicons/pls.js";
import { parseSsml, type TextSegment } from "../../src/ssml/index.js";
import { DEFAULT_CONFIG } from "../support/voice.js";

function lexicon(name: string, lexemes: [string | string[], { phonemes: string } | { alias: string }][]): Lexicon {
  return {
    name,
    version: name,
    language: "en-US",
    lexemes: lexemes.map(([graphemes, pronunciation]) => ({ graphemes: [graphemes].flat(), pronunciation })),
  };
}

/** Pieces written as one string: text as is, phonemes as [[ ipa ]]. */
function spoken(text: string, inline: InlinePronunciation[], lexicons: Lexicon[] = []): string {
  return Pronunciations.compile(inline, lexicons)
    .apply(text, plainTextSource(text))
    .map((piece) => ("phonemes" in piece ? `[[${piece.phonemes}]]` : piece.text))
    .join("");
}

describe("matching", () => {
  it("whole words only", () => {
    const inline = [{ phrase: "TTS", alias: "text to speech" }];
    expect(spoken("TTS, TTSs and xTTS; (TTS)", inline)).toBe("text to speech, TTSs and xTTS; (text to speech)");
  });

  it("a lower-case phrase matches any case; one with a capital only as written", () => {
    const inline = [
      { phrase: "tomato", ipa: "təˈmɑːtoʊ" },
      { phrase: "AetherOS", ipa: "ˈiːθɚ ˌoʊˈɛs" },
    ];
    expect(spoken("Tomato TOMATO aetheros AetherOS", inline)).toBe("[[təˈmɑːtoʊ]] [[təˈmɑːtoʊ]] aetheros [[ˈiːθɚ ˌoʊˈɛs]]");
  });

  it("whitespace in a phrase matches any run of whitespace", () => {
    expect(spoken("New \n  York", [{ phrase: "new york", alias: "the big apple" }])).toBe("the big apple");
  });

  it("the longest phrase wins at a position, whatever its source", () => {
    const lexicons = [lexicon("cities", [["New York City", { alias: "N Y C" }]])];
    expect(spoken("New York City and New York", [{ phrase: "New York", alias: "NY" }], lexicons)).toBe("N Y C and NY");
  });

  it("inline entries come before lexicons, and the first lexicon named wins", () => {
    const a = lexicon("a", [["Bob", { alias: "Robert" }]]);
    const b = lexicon("b", [["Bob", { alias: "Bobby" }]]);
    expect(spoken("Bob", [], [a, b])).toBe("Robert");
    expect(spoken("Bob", [], [b, a])).toBe("Bobby");
    expect(spoken("Bob", [{ phrase: "Bob", alias: "Roberto" }], [a, b])).toBe("Roberto");
  });

  it("an alias is not matched again, and matching goes on after it", () => {
    const inline = [
      { phrase: "a", alias: "b c" },
      { phrase: "b", alias: "x" },
      { phrase: "c", alias: "y" },
    ];
    expect(spoken("a b", inline)).toBe("b c x");
  });

  it("every grapheme of a lexeme matches", () => {
    expect(spoken("TTS or T.T.S.", [], [lexicon("l", [[["TTS", "T.T.S."], { alias: "speech" }]])])).toBe("speech or speech");
  });

  it("no entries: the text comes back as one piece", () => {
    const pronunciations = Pronunciations.compile([], []);
    expect(pronunciations.version).toBe("");
    expect(pronunciations.apply("hello", plainTextSource("hello"))).toEqual([{ text: "hello", source: plainTextSource("hello") }]);
  });
});

describe("pieces map back to the source", () => {
  it("in an SSML document: a phoneme piece spans its phrase, an alias maps to it, other text keeps its offsets", () => {
    const ssml = "<speak>Try AetherOS &amp; TTS now</speak>";
    const segment = parseSsml(ssml).segments[0] as TextSegment;
    const pieces = Pronunciations.compile(
      [
        { phrase: "AetherOS", ipa: "ˈiːθɚ ˌoʊˈɛs" },
        { phrase: "TTS", alias: "text to speech" },
      ],
      [],
    ).apply(segment.text, segment.source);
    const at = (start: number, end: number) => Array.from(ssml).slice(start, end).join("");
    expect(pieces.map((piece) => ("phonemes" in piece ? piece.phonemes : piece.text))).toEqual([
      "Try ",
      "ˈiːθɚ ˌoʊˈɛs",
      " & text to speech now",
    ]);
    const [before, phonemes, after] = pieces as [
      Extract<LexiconPiece, { text: string }>,
      Extract<LexiconPiece, { phonemes: string }>,
      Extract<LexiconPiece, { text: string }>,
    ];
    expect(at(before.source.starts[0]!, before.source.ends[3]!)).toBe("Try ");
    expect(at(phonemes.source.start, phonemes.source.end)).toBe("AetherOS");
    expect(at(after.source.starts[1]!, after.source.ends[1]!)).toBe("&amp;");
    expect(at(after.source.starts[3]!, after.source.ends[16]!)).toBe("TTS");
    expect(after.source.starts).toHaveLength([...after.text].length);
  });
});

describe("inline entries are checked", () => {
  it.each([
    [[{ phrase: "...", alias: "dots" }], "config.pronunciations[0].phrase", '"..." has no letter or digit'],
    [[{ phrase: "a", ipa: "ə", alias: "uh" }], "config.pronunciations[0]", "give exactly one of ipa and alias"],
    [[{ phrase: "a", alias: "b" }, { phrase: "x" }], "config.pronunciations[1]", "give exactly one of ipa and alias"],
    [[{ phrase: "a", ipa: "[[ə]]" }], "config.pronunciations[0].ipa", 'may not contain "[[" or "]]"'],
    [Array.from({ length: 101 }, () => ({ phrase: "a", alias: "b" })), "config.pronunciations", "101 entries; allowed at most 100"],
  ])("%#: %s", (inline, field, problem) => {
    expect(() => Pronunciations.compile(inline, [])).toThrow(new InvalidArgumentError(field, problem));
  });

  it("the version changes with the entries and with a lexicon's version", () => {
    const base = Pronunciations.compile([{ phrase: "a", alias: "b" }], [lexicon("l", [])]).version;
    expect(Pronunciations.compile([{ phrase: "a", alias: "c" }], [lexicon("l", [])]).version).not.toBe(base);
    expect(Pronunciations.compile([{ phrase: "a", alias: "b" }], [{ ...lexicon("l", []), version: "2" }]).version).not.toBe(base);
    expect(Pronunciations.compile([{ phrase: "a", alias: "b" }], [lexicon("l", [])]).version).toBe(base);
  });
});

describe("the example lexicon", () => {
  const { lexemes } = parsePls(readFileSync("examples/lexicons/aetheros.pls", "utf8"));

  it("is read as written", () => {
    expect(lexemes).toEqual([
      { graphemes: ["AetherOS"], pronunciation: { phonemes: "ˈiːθɚ ˌoʊˈɛs" } },
      { graphemes: ["TTS"], pronunciation: { alias: "text to speech" } },
      { graphemes: ["gif"], pronunciation: { phonemes: "dʒˈɪf" } },
    ]);
  });

  it("gives phonemes the default voice has", async () => {
    const voice = await readVoiceConfig(DEFAULT_CONFIG);
    const text = "AetherOS reads a GIF with TTS.";
    const written = Pronunciations.compile([], [{ name: "aetheros", version: "1", language: "en-US", lexemes }])
      .apply(text, plainTextSource(text))
      .map((piece) => ("phonemes" in piece ? `[[ ${piece.phonemes} ]]` : piece.text))
      .join("");
    const plan = planSpeech(written, voice);
    expect(plan.missingPhonemes).toEqual([]);
    expect(plan.sentences.map((sentence) => sentence.phonemes.join("")).join("")).toContain("ˈiːθɚ ˌoʊˈɛs");
    expect(plan.sentences.map((sentence) => sentence.phonemes.join("")).join("")).toContain("dʒˈɪf");
  });
});
