// `npm run check:breaking`: `buf breaking` of the working tree's proto/ against the proto/
// that consumers already have, run in the current directory's git repository.
//
// The reference: on a branch with commits main lacks, main where the branch forked (or last
// merged main), so every change the branch makes is checked; on main itself, main before
// its latest change to proto/ (the first parent of the last first-parent commit touching
// proto/), so that CI on main checks main's newest contract change, never main against
// itself. main is `main`, or `origin/main` in a clone of another branch.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const buf = join(dirname(dirname(fileURLToPath(import.meta.url))), "node_modules", ".bin", "buf");
const git = (...args) => execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
const gitSucceeds = (...args) => {
  try {
    git(...args);
    return true;
  } catch {
    return false;
  }
};

const main = ["main", "origin/main"].find((ref) => gitSucceeds("rev-parse", "--verify", "--quiet", `${ref}^{commit}`));
if (main === undefined) {
  console.error("check:breaking: no main or origin/main branch to compare proto/ against");
  process.exit(1);
}
const head = git("rev-parse", "HEAD");
const base = git("merge-base", "HEAD", main);

let reference;
let why;
if (base !== head) {
  reference = base;
  why = `where this branch meets ${main}`;
} else {
  const lastChange = git("log", "-1", "--first-parent", "--format=%H", "HEAD", "--", "proto");
  if (lastChange === "" || !gitSucceeds("rev-parse", "--verify", "--quiet", `${lastChange}^1`)) {
    console.log("check:breaking: proto/ has no earlier version on main to compare against");
    process.exit(0);
  }
  reference = git("rev-parse", `${lastChange}^1`);
  why = `${main} before its latest change to proto/ (${lastChange.slice(0, 12)})`;
}
if (!gitSucceeds("cat-file", "-e", `${reference}:proto`)) {
  console.log(`check:breaking: ${reference.slice(0, 12)} (${why}) has no proto/: nothing to compare against`);
  process.exit(0);
}

const against = mkdtempSync(join(tmpdir(), "buf-breaking-"));
try {
  execFileSync("sh", ["-c", `git archive ${reference} proto buf.yaml | tar -x -C "${against}"`], { stdio: "inherit" });
  console.log(`check:breaking: proto/ against ${reference.slice(0, 12)}, ${why}`);
  execFileSync(buf, ["breaking", "--against", against], { stdio: "inherit" });
} catch (error) {
  process.exitCode = typeof error.status === "number" ? error.status : 1;
} finally {
  rmSync(against, { recursive: true, force: true });
}
