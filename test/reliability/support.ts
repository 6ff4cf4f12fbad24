// Shared by the reliability tests: the service as operators run it (the entry point as a
// child process), its resident memory, and calls that count what came back.

import { readFileSync } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";
import { listening, startEntryPoint, type EntryPoint } from "../server/entry-point.js";

export interface Service {
  readonly entry: EntryPoint;
  readonly baseUrl: string;
  readonly port: number;
  /** SIGTERM, then SIGKILL if it has not exited within 30 s. */
  stop(): Promise<void>;
}

/** Starts the entry point with the given settings on a free loopback port; resolves once SERVING. */
export async function startService(env: Record<string, string>, spawnOptions: { uid?: number; gid?: number } = {}): Promise<Service> {
  const entry = startEntryPoint(
    { SERVICE_HOST: "127.0.0.1", SERVICE_PORT: "0", SHUTDOWN_GRACE_SECONDS: "5", PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    spawnOptions,
  );
  try {
    const baseUrl = await listening(entry);
    await entry.logged("serving");
    return {
      entry,
      baseUrl,
      port: Number(new URL(baseUrl).port),
      async stop() {
        if (entry.child.exitCode !== null || entry.child.signalCode !== null) return;
        entry.child.kill("SIGTERM");
        const timer = setTimeout(() => entry.child.kill("SIGKILL"), 30_000);
        await entry.exited;
        clearTimeout(timer);
      },
    };
  } catch (error) {
    entry.child.kill("SIGKILL");
    throw error;
  }
}

/** Resident set size of a process, in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) / 1024;
}

/** What one call ended with: a status code name, or "lost" when no status came back. */
export type Outcome = "Ok" | keyof typeof Code | "lost";

/** Runs a call and names its outcome; a ConnectError without a server status counts as lost. */
export async function outcomeOf(call: () => Promise<unknown>): Promise<{ outcome: Outcome; ms: number; error?: ConnectError }> {
  const started = performance.now();
  try {
    await call();
    return { outcome: "Ok", ms: performance.now() - started };
  } catch (err) {
    const error = ConnectError.from(err);
    // Transport failures (reset, refused, dropped) reach a client as these codes with a
    // cause and no server metadata; a server's status arrives as a plain ConnectError.
    const lost = error.cause !== undefined && [Code.Unavailable, Code.Aborted, Code.Internal, Code.Unknown].includes(error.code);
    return { outcome: lost ? "lost" : (Code[error.code] as keyof typeof Code), ms: performance.now() - started, error };
  }
}

export function countBy<T extends string>(values: readonly T[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

export function formatCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => `${name} ${count.toLocaleString("en-US")}`)
    .join(", ");
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once. */
export async function runPool(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}
