// Builds the espeak-ng binding (run by `npm install`/`npm ci` through the postinstall script).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuildPrerequisites } from "../../tools/prerequisites.mjs";

ensureBuildPrerequisites();

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, "target", "release");

execFileSync("cargo", ["build", "--release", "--locked", "--manifest-path", join(here, "Cargo.toml")], {
  stdio: "inherit",
});

cpSync(join(target, "libaetheros_espeak.so"), join(here, "espeak.node"));

// espeak-rs-sys compiles espeak-ng-data into its own OUT_DIR, next to the espeak-ng source
// and command-line tool it built; use the newest such build.
const builds = join(target, "build");
const outDirs = readdirSync(builds)
  .filter((name) => name.startsWith("espeak-rs-sys-"))
  .map((name) => join(builds, name, "out"))
  .filter((out) => existsSync(join(out, "share", "espeak-ng-data", "en_dict")))
  .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
const out = outDirs[0];
if (out === undefined) throw new Error("espeak-ng-data was not compiled; see the cargo output above");
rmSync(join(here, "espeak-ng-data"), { recursive: true, force: true });
cpSync(join(out, "share", "espeak-ng-data"), join(here, "espeak-ng-data"), { recursive: true });

// Piper's espeak-ng (upstream commit 212928b) writes the linking [;] between an i-vowel and
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
console.log(`espeak-ng binding ready: ${join(here, "espeak.node")}`);
