/**
 * LexiconStore on real files in a temporary folder: loading, reloading on change and on
 * removal, a bad file reported with its line and kept apart from the good ones, versions
 * that follow the content, and the errors a request naming lexicons gets.
 */
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FailedPreconditionError, InvalidArgumentError } from "../../src/errors/index.js";
import { LexiconStore, MAX_LEXICONS_PER_REQUEST } from "../../src/lexicons/index.js";

function pls(lexemes: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" alphabet="ipa" xml:lang="en-US" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon">
${lexemes}
</lexicon>
`;
}

const BRAND = pls("<lexeme><grapheme>AetherOS</grapheme><phoneme>ˈiːθɚ ˌoʊˈɛs</phoneme></lexeme>");
const ACRONYMS = pls("<lexeme><grapheme>TTS</grapheme><alias>text to speech</alias></lexeme>");

let dir: string;
let store: LexiconStore | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lexicons-"));
});

afterEach(async () => {
  store?.close();
  store = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function open(defaults: string[] = []): Promise<LexiconStore> {
  store = await LexiconStore.open({ dir, defaults, pollIntervalMs: 200, debounceMs: 20 });
  return store;
}

describe("loading", () => {
  it("loads every .pls in the folder, named by its file name; other files are not lexicons", async () => {
    await writeFile(join(dir, "brand.pls"), BRAND);
    await writeFile(join(dir, "acronyms.pls"), ACRONYMS);
    await writeFile(join(dir, "notes.txt"), "not a lexicon");
    const lexicons = await open();
    expect(lexicons.names()).toEqual(["acronyms", "brand"]);
    expect(lexicons.resolve(["brand", "acronyms"]).map((lexicon) => [lexicon.name, lexicon.lexemes[0]!.graphemes[0]])).toEqual([
      ["brand", "AetherOS"],
      ["acronyms", "TTS"],
    ]);
  });

  it("without a folder there are no lexicons, and naming one is an error listing none", async () => {
    store = await LexiconStore.open({ dir: undefined });
    expect(store.resolve(undefined)).toEqual([]);
    expect(() => store!.resolve(["brand"])).toThrow(
      new InvalidArgumentError("config.lexicons", 'no lexicon named "brand"; no lexicons are loaded'),
    );
  });

  it("a request naming no lexicons gets the defaults, in their order; one naming its own gets only those", async () => {
    await writeFile(join(dir, "brand.pls"), BRAND);
    await writeFile(join(dir, "acronyms.pls"), ACRONYMS);
    const lexicons = await open(["acronyms", "brand"]);
    expect(lexicons.resolve(undefined).map((lexicon) => lexicon.name)).toEqual(["acronyms", "brand"]);
    expect(lexicons.resolve([]).map((lexicon) => lexicon.name)).toEqual(["acronyms", "brand"]);
    expect(lexicons.resolve(["brand"]).map((lexicon) => lexicon.name)).toEqual(["brand"]);
  });

  it("an unknown name is INVALID_ARGUMENT listing the loaded ones; too many names too; a missing default is FAILED_PRECONDITION", async () => {
    await writeFile(join(dir, "brand.pls"), BRAND);
    const lexicons = await open(["medical"]);
    expect(() => lexicons.resolve(["brnad"])).toThrow(
      new InvalidArgumentError("config.lexicons", 'no lexicon named "brnad"; loaded lexicons: brand'),
    );
    const many = Array.from({ length: MAX_LEXICONS_PER_REQUEST + 1 }, (_, i) => `l${i}`);
    expect(() => lexicons.resolve(many)).toThrow(new InvalidArgumentError("config.lexicons", "6 lexicons; allowed at most 5"));
    expect(() => lexicons.resolve(undefined)).toThrow(
      new FailedPreconditionError('default lexicon "medical" (DEFAULT_LEXICONS) is not loaded; loaded lexicons: brand'),
    );
  });
});

describe("a bad file", () => {
  it("is reported with its line and column, and refused by name; the other lexicons keep working", async () => {
    await writeFile(join(dir, "brand.pls"), BRAND);
    await writeFile(join(dir, "broken.pls"), pls("<lexeme>\n  <phoneme>ə</phoneme>\n</lexeme>"));
    const lexicons = await open();
    expect(lexicons.problems()).toEqual([
      {
        name: "broken",
        file: join(dir, "broken.pls"),
        version: expect.stringMatching(/^[0-9a-f]{32}$/),
        line: 5,
        column: 9,
        problem: "the <lexeme> of line 3 has no <grapheme>",
      },
    ]);
    expect(() => lexicons.resolve(["brand", "broken"])).toThrow(
      new FailedPreconditionError(
        'config.lexicons: lexicon "broken" is invalid: broken.pls: line 5, column 9: the <lexeme> of line 3 has no <grapheme>',
      ),
    );
    expect(lexicons.resolve(["brand"])[0]!.name).toBe("brand");
    expect(lexicons.names()).toEqual(["brand"]);
  });

  it("is logged once per version of the file, with its path and line", async () => {
    const lines: { msg: string; lexicon?: string; file?: string; line?: number }[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    await writeFile(join(dir, "broken.pls"), "<lexicon>");
    store = await LexiconStore.open({ dir, logger, pollIntervalMs: 50, debounceMs: 10 });
    // Touched, not changed: the same version, not logged again.
    await utimes(join(dir, "broken.pls"), new Date(), new Date(Date.now() + 5000));
    await store.reload();
    await writeFile(join(dir, "broken.pls"), "<lexicon>\n");
    await vi.waitFor(() => expect(lines.filter((line) => line.lexicon === "broken")).toHaveLength(2), { timeout: 30_000, interval: 50 });
    await store.reload();
    const warnings = lines.filter((line) => line.lexicon === "broken");
    expect(warnings.map((line) => [line.msg, line.file, line.line])).toEqual([
      ["lexicon invalid; requests naming it are refused", join(dir, "broken.pls"), 1],
      ["lexicon invalid; requests naming it are refused", join(dir, "broken.pls"), 1],
    ]);
  });

  it.each([
    ["not XML", "hello", "line 1, column 5: text data outside of root node"],
    ["a DOCTYPE", `<!DOCTYPE lexicon [<!ENTITY x "y">]>${BRAND}`, "line 1, column 36: a DOCTYPE is not allowed"],
    [
      "another alphabet",
      BRAND.replace('alphabet="ipa"', 'alphabet="x-sampa"'),
      'line 2, column 115: <lexicon alphabet="x-sampa">: only alphabet="ipa" is supported',
    ],
    ["an unknown element", pls("<entry/>"), "line 3, column 8: <entry> is not allowed in <lexicon>; allowed: lexeme, meta, metadata"],
    [
      "a lexeme without pronunciation",
      pls("<lexeme><grapheme>a</grapheme></lexeme>"),
      "line 3, column 39: the <lexeme> of line 3 has no <phoneme> or <alias>",
    ],
    ["not UTF-8", Buffer.from([0x3c, 0xff, 0xfe, 0x3e]), "not UTF-8 text"],
  ])("%s", async (_name, content, message) => {
    await writeFile(join(dir, "bad.pls"), content);
    const lexicons = await open();
    const [problem] = lexicons.problems();
    expect(problem!.line === undefined ? problem!.problem : `line ${problem!.line}, column ${problem!.column}: ${problem!.problem}`).toBe(
      message,
    );
  });
});

describe("reloading", () => {
  it("a new version of a file is applied, with a new version hash; the same content keeps its hash", async () => {
    await writeFile(join(dir, "brand.pls"), BRAND);
    const lexicons = await open();
    const first = lexicons.resolve(["brand"])[0]!;
    await writeFile(join(dir, "brand.pls"), pls("<lexeme><grapheme>AetherOS</grapheme><alias>ether O S</alias></lexeme>"));
    await vi.waitFor(() => expect(lexicons.resolve(["brand"])[0]!.lexemes[0]!.pronunciation).toEqual({ alias: "ether O S" }), {
      timeout: 30_000,
      interval: 50,
    });
    const second = lexicons.resolve(["brand"])[0]!;
    expect(second.version).not.toBe(first.version);
    await writeFile(join(dir, "brand.pls"), BRAND);
    await vi.waitFor(() => expect(lexicons.resolve(["brand"])[0]!.version).toBe(first.version), { timeout: 30_000, interval: 50 });
  });

  it("a file added is loaded, a file deleted is gone", async () => {
    const lexicons = await open();
    await writeFile(join(dir, "acronyms.pls"), ACRONYMS);
    await vi.waitFor(() => expect(lexicons.names()).toEqual(["acronyms"]), { timeout: 30_000, interval: 50 });
    await rm(join(dir, "acronyms.pls"));
    await vi.waitFor(() => expect(lexicons.names()).toEqual([]), { timeout: 30_000, interval: 50 });
    expect(() => lexicons.resolve(["acronyms"])).toThrow(
      new InvalidArgumentError("config.lexicons", 'no lexicon named "acronyms"; no lexicons are loaded'),
    );
  });

  it("a broken file fixed is loaded; a good file broken is refused", async () => {
    await writeFile(join(dir, "brand.pls"), "<lexicon");
    const lexicons = await open();
    expect(lexicons.names()).toEqual([]);
    await writeFile(join(dir, "brand.pls"), BRAND);
    await vi.waitFor(() => expect(lexicons.names()).toEqual(["brand"]), { timeout: 30_000, interval: 50 });
    await writeFile(join(dir, "brand.pls"), BRAND.replace("</lexicon>", ""));
    await vi.waitFor(() => expect(() => lexicons.resolve(["brand"])).toThrow(FailedPreconditionError), { timeout: 30_000, interval: 50 });
  });

  it("a folder that appears after start is picked up", async () => {
    const later = join(dir, "later");
    store = await LexiconStore.open({ dir: later, pollIntervalMs: 100, debounceMs: 20 });
    expect(store.names()).toEqual([]);
    await mkdir(later);
    await writeFile(join(later, "brand.pls"), BRAND);
    await vi.waitFor(() => expect(store!.names()).toEqual(["brand"]), { timeout: 30_000, interval: 50 });
  });
});
