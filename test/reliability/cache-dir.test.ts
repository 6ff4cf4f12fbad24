// A CACHE_DIR the service cannot use at start, against the entry point as a child process
// running as nobody (so that file modes bind): a read-only file system, a directory of
// another user, a missing directory under a parent it cannot write to, and a path under a
// regular file. Each start must serve: one JSON log line naming the directory and the
// problem, the disk tier reported unavailable in GetCacheStats, calls answered (cached in
// memory), nothing on stderr. Records its section.

import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { record, REPO_ROOT, table } from "./report.js";
import { startService } from "./support.js";

const NOBODY = 65534;
const VOICE = "en_US-joe-medium";

let work: string;
let models: string;
let home: string;
const rows: (string | number)[][] = [];
let held = 0;
let made = 0;
const mounts: string[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "tts-cache-dir-"));
  chmodSync(work, 0o755);
  models = join(work, "models");
  mkdirSync(models);
  // onnxruntime keeps a telemetry id under HOME, and says so on stderr when it cannot.
  home = join(work, "home");
  mkdirSync(home);
  chownSync(home, NOBODY, NOBODY);
  // Copies readable by nobody (the checkout's models/ may not be).
  for (const suffix of [".onnx", ".onnx.json"]) {
    copyFileSync(join(REPO_ROOT, "models", `${VOICE}${suffix}`), join(models, `${VOICE}${suffix}`));
    chmodSync(join(models, `${VOICE}${suffix}`), 0o644);
  }
});

afterAll(() => {
  record("10-cache-dir", {
    order: 10,
    title: "Unusable CACHE_DIR at start",
    passed: held === rows.length && rows.length === CASES.length,
    body: [
      "The entry point as a child process running as nobody, cache on, no Redis, over a CACHE_DIR it cannot use. Each start",
      "must serve: SERVING, calls answered (the second from memory), the disk tier unavailable in GetCacheStats, one JSON",
      "error line naming the directory and the problem, nothing on stderr. The tier stays off until restart.",
      "",
      table(["CACHE_DIR", "Logged problem", "Calls (cached)", "GetCacheStats disk", "Stderr lines", "Held"], rows),
    ].join("\n"),
    callsMade: made,
    callsLost: 0,
  });
  for (const mount of mounts) execFileSync("umount", [mount]);
  rmSync(work, { recursive: true, force: true });
});

/** A directory owned by nobody, then mounted read-only onto itself: writes fail with EROFS as on a read-only volume. */
function readOnlyFileSystem(): string {
  const dir = join(work, "read-only");
  mkdirSync(dir);
  chownSync(dir, NOBODY, NOBODY);
  execFileSync("mount", ["--bind", dir, dir]);
  mounts.push(dir);
  execFileSync("mount", ["-o", "remount,ro,bind", dir]);
  return dir;
}

function otherUsersDirectory(): string {
  const dir = join(work, "root-owned");
  mkdirSync(dir, { mode: 0o755 });
  return dir;
}

function missingUnderUnwritableParent(): string {
  const parent = join(work, "root-owned-parent");
  mkdirSync(parent, { mode: 0o755 });
  return join(parent, "cache");
}

function underRegularFile(): string {
  const file = join(work, "a-file");
  writeFileSync(file, "not a directory");
  return join(file, "cache");
}

const CASES: { name: string; code: string; make: () => string }[] = [
  { name: "read-only file system (bind mount remounted ro)", code: "EROFS", make: readOnlyFileSystem },
  { name: "directory of another user, mode 0755", code: "EACCES", make: otherUsersDirectory },
  { name: "missing, under a parent of another user", code: "EACCES", make: missingUnderUnwritableParent },
  { name: "a path under a regular file", code: "ENOTDIR", make: underRegularFile },
];

describe("unusable CACHE_DIR at start", () => {
  for (const { name, code, make } of CASES) {
    it(`serves with the disk tier off when CACHE_DIR is ${name}`, async () => {
      const cacheDir = make();
      const service = await startService(
        { MODELS_DIR: models, PIPER_MODEL_NAME: VOICE, CACHE_ENABLED: "true", CACHE_DIR: cacheDir, HOME: home },
        { uid: NOBODY, gid: NOBODY },
      );
      try {
        const client = createClient(TtsService, createGrpcTransport({ baseUrl: service.baseUrl }));
        const text = "Spoken without a disk cache.";
        const cached = [];
        for (let i = 0; i < 2; i++) cached.push((await client.synthesize({ text }, { timeoutMs: 60_000 })).cached);
        made += 3;
        const disk = (await client.getCacheStats({})).tiers.find((tier) => tier.tier === "disk");
        const diskLines = service.entry.logLines.filter((line) => line.tier === "disk");
        const logged = diskLines[0];
        const stderrLines = service.entry.rawLines.length - service.entry.logLines.length;
        const ok =
          cached.join() === "false,true" &&
          disk?.available === false &&
          diskLines.length === 1 &&
          logged?.dir === cacheDir &&
          String(logged?.msg).includes(code) &&
          stderrLines === 0;
        if (ok) held++;
        rows.push([
          name,
          String(logged?.msg ?? "none").replaceAll(`${work}/`, ""),
          cached.map(String).join(", "),
          `available ${disk?.available}, errors ${disk?.errors}`,
          stderrLines,
          ok ? "yes" : "**no**",
        ]);
        expect(cached).toEqual([false, true]);
        expect(disk).toMatchObject({ available: false, errors: 1n });
        expect(diskLines).toHaveLength(1);
        expect(logged).toMatchObject({ level: 50, dir: cacheDir });
        expect(String(logged?.msg)).toContain(code);
        expect(stderrLines).toBe(0);
      } finally {
        await service.stop();
      }
    });
  }
});
