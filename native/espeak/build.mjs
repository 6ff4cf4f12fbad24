// Builds the espeak-ng binding (run by `npm install`/`npm ci` through the postinstall script).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, rmSync } from "node:fs";
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

// espeak-rs-sys compiles espeak-ng-data into its own OUT_DIR; keep the newest one beside the binding.
const builds = join(target, "build");
const data = readdirSync(builds)
  .filter((name) => name.startsWith("espeak-rs-sys-"))
  .map((name) => join(builds, name, "out", "share", "espeak-ng-data"))
  .filter((dir) => existsSync(join(dir, "en_dict")));
if (data.length === 0) throw new Error("espeak-ng-data was not compiled; see the cargo output above");
rmSync(join(here, "espeak-ng-data"), { recursive: true, force: true });
cpSync(data[0], join(here, "espeak-ng-data"), { recursive: true });
console.log(`espeak-ng binding ready: ${join(here, "espeak.node")}`);
