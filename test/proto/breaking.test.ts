// `npm run check:breaking` (tools/check-breaking.mjs) in a scratch git repository holding
// this repository's buf.yaml and proto/: on main it compares main with main before its
// latest proto change, so a commit on main that removes a field fails it even though main
// is compared with nothing else; a branch is compared with where it meets main; adding a
// field passes.

import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../server/entry-point.js";

const execFileAsync = promisify(execFile);
const TTS_PROTO = join("proto", "aetheros", "tts", "v1", "tts.proto");
const SPEED_FIELD = /^\s*optional float speed = 6;\n/m;

let repo: string;
const git = (...args: string[]) => execFileAsync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo });

/** Runs the check; its exit code and what it printed. */
async function checkBreaking(): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [join(REPO_ROOT, "tools", "check-breaking.mjs")], { cwd: repo });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

async function editProto(edit: (proto: string) => string, message: string): Promise<void> {
  const path = join(repo, TTS_PROTO);
  await writeFile(path, edit(await readFile(path, "utf8")));
  await git("commit", "-qam", message);
}

beforeEach(async () => {
  repo = await mkdtemp(join(tmpdir(), "tts-breaking-"));
  await cp(join(REPO_ROOT, "proto"), join(repo, "proto"), { recursive: true });
  await cp(join(REPO_ROOT, "buf.yaml"), join(repo, "buf.yaml"));
  await git("init", "-q", "-b", "main");
  await git("add", ".");
  await git("commit", "-qm", "proto");
  await writeFile(join(repo, "README"), "not a proto change\n");
  await git("add", "README");
  await git("commit", "-qm", "docs");
});
afterEach(() => rm(repo, { recursive: true, force: true }));

describe("check:breaking", () => {
  it("passes on main when proto/ has no earlier version", async () => {
    expect(await checkBreaking()).toMatchObject({ code: 0 });
  });

  it("fails on main after a commit that removes a field, in later commits too", async () => {
    await editProto((proto) => proto.replace(SPEED_FIELD, ""), "remove speed");
    const result = await checkBreaking();
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('Previously present field "6" with name "speed" on message "SynthesisConfig" was deleted.');

    await writeFile(join(repo, "README"), "still not a proto change\n");
    await git("commit", "-qam", "more docs");
    expect((await checkBreaking()).code).not.toBe(0);
  });

  it("passes on main after a commit that adds a field", async () => {
    await editProto((proto) => proto.replace(SPEED_FIELD, (line) => `${line}  optional float breath = 99;\n`), "add a field");
    expect(await checkBreaking()).toMatchObject({ code: 0 });
  });

  it("compares a branch with where it meets main", async () => {
    await git("checkout", "-qb", "feature");
    await editProto((proto) => proto.replace(SPEED_FIELD, ""), "remove speed on a branch");
    const result = await checkBreaking();
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("where this branch meets main");
  });
});
