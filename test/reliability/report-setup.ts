// Global setup of the reliability suite: clears old figures before the run and writes
// docs/RELIABILITY.md from the new ones after it.

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { clearFigures, recordedSections, REPO_ROOT } from "./report.js";

export default function setup(): () => void {
  clearFigures();
  const started = new Date();
  return () => {
    const sections = recordedSections();
    if (sections.length === 0) return;
    const made = sections.reduce((sum, section) => sum + section.callsMade, 0);
    const lost = sections.reduce((sum, section) => sum + section.callsLost, 0);
    const failed = sections.filter((section) => !section.passed).map((section) => section.title);
    let commit = "unknown";
    try {
      commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    } catch {
      // not a git checkout
    }
    const minutes = ((Date.now() - started.getTime()) / 60_000).toFixed(1);
    const text = [
      "# Reliability",
      "",
      "Written by `npm run test:reliability` (vitest, `vitest.reliability.config.ts`, tests in",
      "`test/reliability/`): every figure below is from its last run. Do not edit by hand; run the",
      "suite again. Servers are the real service (the entry point as a child process, or the same",
      "composition in-process), called over loopback.",
      "",
      `Run: ${started.toISOString().slice(0, 16).replace("T", " ")} UTC, commit ${commit}, ${minutes} min, Node ${process.version},`,
      `${cpus().length} × ${cpus()[0]?.model.trim() ?? "CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB.`,
      "",
      "## Summary",
      "",
      `- Calls made: ${made.toLocaleString("en-US")}; calls lost (no status at all: hung, reset or dropped): **${lost}**.`,
      `- Sections whose checks held: ${sections.length - failed.length} of ${sections.length}${failed.length ? ` (failed: ${failed.join(", ")})` : ""}.`,
      "",
      ...sections.flatMap((section) => [`## ${section.title}${section.passed ? "" : " — FAILED"}`, "", section.body.trim(), ""]),
    ].join("\n");
    writeFileSync(join(REPO_ROOT, "docs", "RELIABILITY.md"), text);
  };
}
