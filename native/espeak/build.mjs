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

// Piper's espeak-ng counts emoji as letters (IsAlpha), so a word that holds one stays one word
// and is spoken a character at a time, each emoji with its whole en_emoji name ("😀😀" is
// "grinning face grinning face", "❤️" is "red heart"). The 1.52.0.1 snapshot does not, and
// there a letter-by-letter emoji keeps only the first word of its name ("grinning grinning",
// "red"): 4 of the 221 golden lines. Which characters Piper treats so was probed character by
// character against piper-tts 1.8.0 (see README): pictographs, skin-tone modifiers and
// regional indicators in U+2600-27BF and from U+1F000. Patch IsAlpha in the copied source,
// rebuild and reinstall the library, then relink the binding against it.
const common = join(out, "espeak-ng", "src", "libespeak-ng", "common.c");
const belowCombining = "\tif (c < 0x300)\n\t\treturn 0;\n";
const emojiAsLetters = `
\t// aetheros-tts: emoji are letters here, as in the espeak-ng that Piper is built with
\tif (((c >= 0x2600) && (c <= 0x27bf)) || (c >= 0x1f000)) {
\t\tif (ucd_properties(c, ucd_lookup_category(c)) & (UCD_PROPERTY_EXTENDED_PICTOGRAPHIC | UCD_PROPERTY_EMOJI_MODIFIER | UCD_PROPERTY_REGIONAL_INDICATOR))
\t\t\treturn 1;
\t}
`;
const commonSource = readFileSync(common, "utf8");
if (!commonSource.includes(emojiAsLetters)) {
  if (commonSource.split(belowCombining).length !== 2 || !commonSource.includes("<ucd/ucd.h>")) {
    throw new Error(`${common} has changed; review the emoji step for the new espeak-ng source`);
  }
  writeFileSync(common, commonSource.replace(belowCombining, belowCombining + emojiAsLetters));
}
// Also after an earlier run that patched the source but failed before rebuilding.
if (statSync(join(out, "build", "src", "libespeak-ng", "libespeak-ng.a")).mtimeMs < statSync(common).mtimeMs) {
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
  execFileSync("cargo", ["clean", "--release", "-p", "aetheros-espeak", "--manifest-path", join(here, "Cargo.toml")], { stdio: "inherit" });
  execFileSync("cargo", ["build", "--release", "--locked", "--manifest-path", join(here, "Cargo.toml")], { stdio: "inherit" });
}
cpSync(join(target, "libaetheros_espeak.so"), join(here, "espeak.node"));

rmSync(join(here, "espeak-ng-data"), { recursive: true, force: true });
cpSync(join(out, "share", "espeak-ng-data"), join(here, "espeak-ng-data"), { recursive: true });

// Piper's espeak-ng writes the linking [;] between an i-vowel and
// a following vowel as IPA ʲ ("ðɪʲ ˈoʊld"); the 1.52.0.1 snapshot in espeak-rs-sys hides it
// (`ipa NULL`), which changed the ids of 44 of the 221 golden lines. Recompile the phoneme
// tables from that snapshot without the three lines, with the espeak-ng it built.
const phsource = join(here, "target", "phsource");
rmSync(phsource, { recursive: true, force: true });
cpSync(join(out, "espeak-ng", "phsource"), phsource, { recursive: true });
const phonemes = join(phsource, "phonemes");
const hidden = "  IF prevPh(#i) THEN\n    ipa NULL   // linking after i vowel, don't show in ipa\n  ENDIF\n";
const source = readFileSync(phonemes, "utf8");
if (!source.includes(hidden)) throw new Error(`${phonemes} no longer hides the linking ʲ; review this step for the new espeak-ng source`);
writeFileSync(phonemes, source.replace(hidden, ""));
const compiled = execFileSync(join(out, "bin", "espeak-ng"), [`--path=${here}`, `--compile-phonemes=${phsource}`], { encoding: "utf8" });
if (!/Compiled phonemes: 0 errors/.test(compiled)) throw new Error(`espeak-ng --compile-phonemes failed:\n${compiled}`);

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
