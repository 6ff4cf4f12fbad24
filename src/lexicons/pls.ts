/**
 * W3C Pronunciation Lexicon Specification 1.0 files, as Polly and Azure take them:
 *
 *   <lexicon version="1.0" alphabet="ipa" xml:lang="en-US" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon">
 *     <lexeme><grapheme>AetherOS</grapheme><phoneme>ˈiːθɚɹoʊɛs</phoneme></lexeme>
 *     <lexeme><grapheme>TTS</grapheme><grapheme>T.T.S.</grapheme><alias>text to speech</alias></lexeme>
 *   </lexicon>
 *
 * A lexeme has one or more graphemes and one or more pronunciations (`<phoneme>` or
 * `<alias>`); the one marked `prefer="true"`, else the first, is used (PLS §4.6). Only
 * the IPA alphabet is read: the voices speak IPA. `<example>`, `<meta>` and `<metadata>`
 * are skipped. Parsed with saxes, as SSML is (src/ssml/parse.ts): strict, and a DOCTYPE
 * or an undeclared entity is a problem, never expanded.
 */
import { SaxesParser } from "saxes";

/** Largest lexicon file read. */
export const MAX_LEXICON_BYTES = 4 * 1024 * 1024;

export type Pronunciation = { phonemes: string } | { alias: string };

export interface Lexeme {
  graphemes: string[];
  pronunciation: Pronunciation;
}

/** Why a lexicon file cannot be used, and where (line and column from 1, when known). */
export class PlsProblem extends Error {
  constructor(
    readonly problem: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(line === undefined ? problem : `line ${line}, column ${column}: ${problem}`);
  }
}

const ALLOWED_CHILDREN: Readonly<Record<string, readonly string[]>> = {
  lexicon: ["lexeme", "meta", "metadata"],
  lexeme: ["grapheme", "phoneme", "alias", "example"],
};

/** Elements whose content is not read. */
function isSkipped(name: string): boolean {
  return name === "example" || name === "meta" || name === "metadata";
}

/** Reads a PLS document; throws PlsProblem. */
export function parsePls(content: string): { language: string | undefined; lexemes: Lexeme[] } {
  const parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  const lexemes: Lexeme[] = [];
  const path: string[] = [];
  let language: string | undefined;
  let text = "";
  let lexeme: { graphemes: string[]; pronunciations: (Pronunciation & { preferred: boolean })[]; line: number } | undefined;
  let preferred = false;
  const fail = (problem: string): never => {
    throw new PlsProblem(problem, parser.line, Math.max(1, parser.column));
  };

  parser.on("error", (error) => fail(error.message.replace(/^\d+:\d+: /, "").replace(/\.$/, "")));
  parser.on("doctype", () => fail("a DOCTYPE is not allowed"));
  parser.on("opentag", (tag) => {
    const parent = path[path.length - 1];
    const skipped = path.some(isSkipped);
    path.push(tag.name);
    if (skipped) return;
    if (parent === undefined) {
      if (tag.name !== "lexicon") fail(`the root element must be <lexicon>, found <${tag.name}>`);
      const { version, alphabet } = tag.attributes;
      if (version !== "1.0") fail(`<lexicon version="${version ?? ""}">: expected version="1.0"`);
      if (alphabet !== "ipa") fail(`<lexicon alphabet="${alphabet ?? ""}">: only alphabet="ipa" is supported`);
      language = tag.attributes["xml:lang"];
      return;
    }
    const allowed = ALLOWED_CHILDREN[parent];
    if (!allowed?.includes(tag.name)) fail(`<${tag.name}> is not allowed in <${parent}>; allowed: ${allowed?.join(", ") ?? "text only"}`);
    if (tag.name === "lexeme") lexeme = { graphemes: [], pronunciations: [], line: parser.line };
    if (tag.name === "phoneme") {
      const alphabet = tag.attributes.alphabet;
      if (alphabet !== undefined && alphabet !== "ipa") fail(`<phoneme alphabet="${alphabet}">: only "ipa" is supported`);
    }
    preferred = tag.attributes.prefer === "true";
    text = "";
  });
  parser.on("text", (chunk) => {
    text += chunk;
  });
  parser.on("cdata", (chunk) => {
    text += chunk;
  });
  parser.on("closetag", (tag) => {
    path.pop();
    if (isSkipped(tag.name) || path.some(isSkipped)) return;
    const value = text.trim().replace(/\s+/g, " ");
    text = "";
    if (!lexeme) return;
    switch (tag.name) {
      case "grapheme":
        if (!/[\p{L}\p{N}]/u.test(value)) fail("<grapheme> needs at least one letter or digit");
        lexeme.graphemes.push(value);
        return;
      case "phoneme":
        if (value === "" || value.includes("[[") || value.includes("]]")) fail('<phoneme> must be non-empty IPA without "[[" or "]]"');
        lexeme.pronunciations.push({ phonemes: value, preferred });
        return;
      case "alias":
        if (value === "") fail("<alias> must not be empty");
        lexeme.pronunciations.push({ alias: value, preferred });
        return;
      case "lexeme": {
        if (lexeme.graphemes.length === 0) fail(`the <lexeme> of line ${lexeme.line} has no <grapheme>`);
        const chosen = lexeme.pronunciations.find((p) => p.preferred) ?? lexeme.pronunciations[0];
        if (!chosen) fail(`the <lexeme> of line ${lexeme.line} has no <phoneme> or <alias>`);
        const { preferred: _preferred, ...pronunciation } = chosen!;
        lexemes.push({ graphemes: lexeme.graphemes, pronunciation });
        lexeme = undefined;
        return;
      }
    }
  });
  parser.write(content).close();
  return { language, lexemes };
}
