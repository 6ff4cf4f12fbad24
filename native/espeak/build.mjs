// Builds the espeak-ng binding (run by `npm install`/`npm ci` through the postinstall script).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuildPrerequisites } from "../../tools/prerequisites.mjs";

ensureBuildPrerequisites();

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "target", "release");

execFileSync("cargo", ["build", "--release", "--locked", "--manifest-path", join(here, "Cargo.toml")], {
  stdio: "inherit",
});

// espeak-rs-sys copies the espeak-ng source into its OUT_DIR and builds and installs it there
// with CMake (library, command-line tool, espeak-ng-data); use the newest such build.
const builds = join(target, "build");
const outDirs = readdirSync(builds)
  .filter((name) => name.startsWith("espeak-rs-sys-"))
  .map((name) => join(builds, name, "out"))
  .filter((out) => existsSync(join(out, "share", "espeak-ng-data", "en_dict")))
  .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
const out = outDirs[0];
if (out === undefined) throw new Error("espeak-ng-data was not compiled; see the cargo output above");

// Each edit replaces text that must occur exactly once; `applied` shows it is already in.
function patchSource(file, edits) {
  let text = readFileSync(file, "utf8");
  let changed = false;
  for (const { from, to, applied } of edits) {
    if (text.includes(applied)) continue;
    if (text.split(from).length !== 2) throw new Error(`${file} has changed; review the patch that replaces ${JSON.stringify(from)}`);
    text = text.replace(from, to);
    changed = true;
  }
  if (changed) writeFileSync(file, text);
  return file;
}
// Piper's espeak-ng (upstream 724808c) counts the Miscellaneous Symbols, Dingbats and emoji
// blocks (U+2600-27BF, U+1F000-1FBFF) as letters (IsAlpha), so a word that holds one stays one
// word and is spoken a character at a time, each with its whole en_emoji name ("😀😀" is
// "grinning face grinning face", "❤️" is "red heart") or, without one, as "symbol" and its
// code ("✓" is "symbol 2713"). The 1.52.0.1 snapshot does not: there a letter-by-letter emoji
// keeps only the first word of its name ("grinning grinning", "red": 4 of the 221 golden
// lines) and other symbols are silent (687 of the sweep's). Patch IsAlpha in the copied
// source, rebuild and reinstall the library, then relink the binding against it.
const libespeak = join(out, "espeak-ng", "src", "libespeak-ng");
const belowCombining = "\tif (c < 0x300)\n\t\treturn 0;\n";
const emojiAsLetters = `
\t// aetheros-tts: symbols and emoji are letters, as in the espeak-ng that Piper is built with
\tif (((c >= 0x2600) && (c <= 0x27bf)) || ((c >= 0x1f000) && (c <= 0x1fbff)))
\t\treturn 1;
`;
const patched = [
  patchSource(join(libespeak, "common.c"), [{ from: belowCombining, to: belowCombining + emojiAsLetters, applied: emojiAsLetters }]),
];

// Piper's espeak-ng bounds how far back a phoneme program's conditions (prevPh, prev2PhW,
// isAfterStress, isFirstVowel) may look: InterpretPhoneme takes the start of the phoneme
// list. When it writes a phoneme's IPA it passes the phoneme itself as that start, so there
// every look-back condition is false and a phoneme keeps its plain IPA: the linking [;] after
// an i-vowel is ʲ ("ðɪʲ ˈoʊld", 44 of the 221 golden lines) and the flap [*] after [@-] is ɾ,
// not r ("й"). The 1.52.0.1 snapshot looks back without a bound. Give it the same bound as a
// global (espeak-ng's state is global anyway), set only while WritePhMnemonic looks up an IPA.
const bound = (distance) =>
  `\t\t\tif ((condition_plist_start != NULL) && (plist < condition_plist_start + ${distance}))\n\t\t\t\treturn false;\n`;
const boundDeclaration = `// aetheros-tts: the first phoneme a condition may look back to (NULL: no bound), as newer
// espeak-ng passes it to InterpretPhoneme as plist_start.
PHONEME_LIST *condition_plist_start = NULL;

`;
patched.push(
  patchSource(join(libespeak, "synthdata.c"), [
    { from: "static int CountVowelPosition(", to: `${boundDeclaration}static int CountVowelPosition(`, applied: boundDeclaration },
    {
      from: "\t\tif (plist->sourceix != 0)\n\t\t\tbreak;\n\t\tplist--;",
      to: "\t\tif (plist->sourceix != 0 || plist == condition_plist_start)\n\t\t\tbreak;\n\t\tplist--;",
      applied: "plist == condition_plist_start",
    },
    { from: "\t\tcase 5: // prevPhW\n", to: `\t\tcase 5: // prevPhW\n${bound(1)}`, applied: `// prevPhW\n${bound(1)}` },
    { from: "\t\tcase 10: // prev2PhW\n", to: `\t\tcase 10: // prev2PhW\n${bound(2)}`, applied: `// prev2PhW\n${bound(2)}` },
    {
      from: "\t\t\tif (plist->phcode == 1) {\n",
      to: `\t\t\tif (plist->phcode == 1) {\n${bound(1).replaceAll("\t\t\t", "\t\t\t\t")}`,
      applied: `\t\t\tif (plist->phcode == 1) {\n${bound(1).replaceAll("\t\t\t", "\t\t\t\t")}`,
    },
    {
      from: "\t\t\t\tdo {\n\t\t\t\t\tplist--;\n",
      to: `\t\t\t\tdo {\n${bound(1).replaceAll("\t\t\t", "\t\t\t\t\t")}\t\t\t\t\tplist--;\n`,
      applied: `\t\t\t\tdo {\n${bound(1).replaceAll("\t\t\t", "\t\t\t\t\t")}`,
    },
  ]),
  patchSource(join(libespeak, "dictionary.c"), [
    {
      from: "char *WritePhMnemonic(",
      to: "extern PHONEME_LIST *condition_plist_start; // aetheros-tts, synthdata.c\n\nchar *WritePhMnemonic(",
      applied: "extern PHONEME_LIST *condition_plist_start;",
    },
    {
      from: "\t\t\tInterpretPhoneme(NULL, 0, plist, &phdata, NULL);\n",
      to: "\t\t\tcondition_plist_start = plist;\n\t\t\tInterpretPhoneme(NULL, 0, plist, &phdata, NULL);\n\t\t\tcondition_plist_start = NULL;\n",
      applied: "\t\t\tcondition_plist_start = plist;\n",
    },
  ]),
);
// Word timings need to know which text word each word of the IPA string came from. The
// phoneme list knows (sourceix, set on a word's first phoneme) but is gone from the string, so
// GetTranslatedPhonemeString also records, for every phoneme that starts a word, where in its
// output that word begins and the phoneme's sourceix. Its output does not change.
const wordRecordDeclaration = `// aetheros-tts: the words of the last GetTranslatedPhonemeString output, one per phoneme that
// starts a word: the byte offset in the output where its text begins (before the space that
// separates it from the previous word) and the phoneme's sourceix (bits 0-10: the text word's
// position from the start of the clause, in characters; bits 11-15: its length, at most 31).
int aetheros_word_count = 0;
unsigned int aetheros_word_offsets[N_PHONEME_LIST];
unsigned short aetheros_word_sources[N_PHONEME_LIST];

`;
const startsWord =
  "\t\tif (plist->newword & PHLIST_START_OF_WORD && !(plist->newword & (PHLIST_START_OF_SENTENCE | PHLIST_START_OF_CLAUSE)))\n";
const recordWord = `\t\tif (plist->newword & PHLIST_START_OF_WORD) { // aetheros-tts
\t\t\taetheros_word_offsets[aetheros_word_count] = phon_out_ix;
\t\t\taetheros_word_sources[aetheros_word_count++] = plist->sourceix;
\t\t}
`;
patched.push(
  patchSource(join(libespeak, "dictionary.c"), [
    {
      from: "const char *GetTranslatedPhonemeString(int phoneme_mode)\n",
      to: `${wordRecordDeclaration}const char *GetTranslatedPhonemeString(int phoneme_mode)\n`,
      applied: wordRecordDeclaration,
    },
    {
      from: "\tuse_ipa = phoneme_mode & espeakPHONEMES_IPA;\n",
      to: "\taetheros_word_count = 0;\n\tuse_ipa = phoneme_mode & espeakPHONEMES_IPA;\n",
      applied: "\taetheros_word_count = 0;\n",
    },
    { from: startsWord, to: recordWord + startsWord, applied: recordWord },
  ]),
);
// Also after an earlier run that patched the source but failed before rebuilding.
const library = statSync(join(out, "build", "src", "libespeak-ng", "libespeak-ng.a")).mtimeMs;
if (patched.some((file) => statSync(file).mtimeMs > library)) {
  // CMake's install step lists every data file (~1,000 lines); show its output only if it fails.
  try {
    execFileSync("cmake", ["--build", join(out, "build"), "--target", "install", "--config", "Release"], {
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    process.stdout.write(error.stdout ?? "");
    process.stderr.write(error.stderr ?? "");
    throw error;
  }
  // espeak-rs-sys's rlib carries a copy of the static library it was compiled with, and the
  // binding is linked against that copy: remove the rlib so cargo rebuilds it from the patched
  // library (without rerunning its build script, which would start from pristine source).
  const deps = join(target, "deps");
  for (const name of readdirSync(deps).filter((file) => /^libespeak_rs_sys-.*\.(rlib|rmeta)$/.test(file))) rmSync(join(deps, name));
  execFileSync("cargo", ["build", "--release", "--locked", "--manifest-path", join(here, "Cargo.toml")], { stdio: "inherit" });
}
cpSync(join(target, "libaetheros_espeak.so"), join(here, "espeak.node"));

rmSync(join(here, "espeak-ng-data"), { recursive: true, force: true });
cpSync(join(out, "share", "espeak-ng-data"), join(here, "espeak-ng-data"), { recursive: true });

// piper-tts 1.8.0 is built from upstream espeak-ng 724808c (2026-04), whose English dictionary
// sources are newer than the 1.52.0.1 snapshot's by these edits. The one that matters most:
// `(has-been)` became a noun-only entry; without $noun it is found before `(has been)`, so
// every "has been" was spoken hˈæzbiːn instead of hɐzbɪn. Apply them, recompile en_dict with
// the espeak-ng built above and check it is byte for byte the en_dict piper-tts ships.
const PIPER_EN_DICT_SHA256 = "e287f8e93e02fa0d4cd246d954309d932c2b71c803dc52176368534bf884173e";
const dictionaryEdits = {
  en_list: [
    ["bvld\tbUl@vA@d\n", "blvd\tbUl@vA@d\n"],
    ["tbsp\tteIb@Lspu:n\n", "tbsp\tteIb@Lspu:n\ntdae\t$abbrev\n"],
    ["alphabetize\talf@b@taIz\n", "alphabetize\talf@b@taIz\nalpharetrovirus\talpha retrovirus $text\n"],
    ["bakelite\tbeIk@laIt\n", "bakelite\tbeIk@laIt\nbanknote\tb'aNknoUt\n"],
    ["(lean-to)\tli:n||tu:\n", "(lean-to)\tli:n||tu:   $noun\n"],
    ["sommelier\ts0m'Eli@\n", "sommelier\ts0m@lj'e\n"],
    ["?!3 weekend\t$2\n", "?!3 weekend\t$2\nweeknote\tw'i:knoUt\n"],
    ["linkedin\tlInkt||'In\n", "linkedin\tlInkt||'In\nLoomis\t\tl'u:mIs\n"],
    ["(has-been)       hazbi:n   \n", "(has-been)       hazbi:n\t$noun\n"],
  ],
  en_rules: [["        retro (P5  r,EtroU   // prefix\n", "     _) retro (@P5 r,EtroU   // prefix\n"]],
};
const dictsource = join(here, "target", "dictsource");
rmSync(dictsource, { recursive: true, force: true });
mkdirSync(dictsource, { recursive: true });
for (const name of ["en_list", "en_rules", "en_emoji"]) {
  let text = readFileSync(join(out, "espeak-ng", "dictsource", name), "utf8");
  for (const [from, to] of dictionaryEdits[name] ?? []) {
    if (text.split(from).length !== 2) throw new Error(`${name} no longer holds ${JSON.stringify(from)}; review the dictionary edits`);
    text = text.replace(from, to);
  }
  writeFileSync(join(dictsource, name), text);
}
// espeak-ng reads the dictionary sources from its working directory.
execFileSync(join(out, "bin", "espeak-ng"), [`--path=${here}`, "--compile=en"], { cwd: dictsource, stdio: ["ignore", "pipe", "pipe"] });
const enDict = createHash("sha256")
  .update(readFileSync(join(here, "espeak-ng-data", "en_dict")))
  .digest("hex");
if (enDict !== PIPER_EN_DICT_SHA256)
  throw new Error(`compiled en_dict has sha256 ${enDict}, not piper-tts 1.8.0's ${PIPER_EN_DICT_SHA256}`);
console.log(`espeak-ng binding ready: ${join(here, "espeak.node")}`);
