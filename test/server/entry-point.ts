// Runs the real entry point (`node --import tsx src/server/main.ts`) as a child process
// and reads its JSON log lines, for tests of the process as operators run it.

import { spawn, type ChildProcessByStdio, type SpawnOptions } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type LogLine = Record<string, unknown>;

export interface EntryPoint {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly logLines: LogLine[];
  /** Every line written to stdout and stderr, as written. */
  readonly rawLines: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** The first log line with this msg, once it is written. */
  logged(msg: string): Promise<LogLine>;
}

/** Runs the entry point with exactly the given environment (plus `spawnOptions`, e.g. uid). */
export function startEntryPoint(env: Record<string, string>, spawnOptions: Pick<SpawnOptions, "uid" | "gid"> = {}): EntryPoint {
  const child = spawn(process.execPath, ["--import", "tsx", "src/server/main.ts"], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    ...spawnOptions,
  });
  const logLines: LogLine[] = [];
  const rawLines: string[] = [];
  const waiting = new Set<() => void>();
  createInterface({ input: child.stdout }).on("line", (line) => {
    rawLines.push(line);
    logLines.push(JSON.parse(line) as LogLine);
    for (const check of waiting) check();
  });
  let stderr = "";
  createInterface({ input: child.stderr }).on("line", (line) => {
    rawLines.push(line);
    stderr += `${line}\n`;
  });
  const exited: EntryPoint["exited"] = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal, stderr })));
  const logged = (msg: string): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const line = logLines.find((candidate) => candidate.msg === msg);
        if (line === undefined) return;
        waiting.delete(check);
        resolve(line);
      };
      waiting.add(check);
      check();
      void exited.then(({ code, stderr }) => {
        if (waiting.delete(check)) reject(new Error(`the server exited (${code}) before logging "${msg}":\n${stderr}`));
      });
    });
  return { child, logLines, rawLines, exited, logged };
}

/** The base URL once the server logs "listening". */
export async function listening(entry: EntryPoint, scheme = "http"): Promise<string> {
  const line = await entry.logged("listening");
  return `${scheme}://127.0.0.1:${String(line.port)}`;
}
