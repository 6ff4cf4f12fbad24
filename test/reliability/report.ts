// Figures of the reliability suite. Each test records its section (markdown and the
// calls it made and lost) under tmp/reliability/; once the run is over the global setup's
// teardown (report-setup.ts) writes docs/RELIABILITY.md from them.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const FIGURES_DIR = join(REPO_ROOT, "tmp", "reliability");

export interface Section {
  /** Position in the document. */
  order: number;
  title: string;
  /** Whether the section's checks held; a failed one is shown as such. */
  passed: boolean;
  /** Markdown under the title. */
  body: string;
  /** Calls sent to the server, and calls that got no status at all (hung, reset, dropped). */
  callsMade: number;
  callsLost: number;
}

export function record(name: string, section: Section): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  writeFileSync(join(FIGURES_DIR, `${name}.json`), JSON.stringify(section, null, 2));
}

export function clearFigures(): void {
  rmSync(FIGURES_DIR, { recursive: true, force: true });
}

export function recordedSections(): Section[] {
  let names: string[] = [];
  try {
    names = readdirSync(FIGURES_DIR).filter((name) => name.endsWith(".json"));
  } catch {
    return [];
  }
  return names.map((name) => JSON.parse(readFileSync(join(FIGURES_DIR, name), "utf8")) as Section).sort((a, b) => a.order - b.order);
}

/** The value at fraction `p` (0 to 1) of the sorted values: nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** Milliseconds with sensible precision. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "–";
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
}

export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map((cell) => String(cell).replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
