// @aetheros/tts-client as a sibling service takes it: `npm pack` of the workspace, installed
// into a fresh project in a temporary directory, holds only compiled JavaScript and
// declarations and brings no server dependency; plain `node` (no TypeScript loader) runs
// test/client/consumers/consumer.mjs against a real server (unary to a file, the stream,
// a live session, health, an INVALID_ARGUMENT); and tsc type-checks test/client/consumers/consumer.ts
// against the installed declarations under strict settings with exactOptionalPropertyTypes
// and each moduleResolution a consumer may use.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../server/entry-point.js";
import { startServer, type RunningServer } from "../server/running-server.js";
import { decode, probe, VOICE_RATE } from "../synthesis/support.js";

const run = promisify(execFile);
const API_KEY = "node-consumer-key-4a1f0c77";
const TSC = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
// npm run by `npm test` passes its settings down as npm_* variables (the repository's prefix
// among them); the consumer's npm must see only its own project.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_")));

let running: RunningServer;
let scratch: string;
let packed: string[];
beforeAll(async () => {
  running = await startServer({ API_KEYS: API_KEY });
  scratch = await mkdtemp(join(tmpdir(), "tts-node-consumer-"));
  const { stdout } = await run("npm", ["pack", "-w", "@aetheros/tts-client", "--pack-destination", scratch, "--json"], {
    cwd: REPO_ROOT,
    env: cleanEnv,
  });
  const [pack] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  packed = pack!.files.map((file) => file.path);
  const typesNode = JSON.parse(await readFile(join(REPO_ROOT, "node_modules", "@types", "node", "package.json"), "utf8")).version;
  await writeFile(
    join(scratch, "package.json"),
    JSON.stringify({
      name: "consumer",
      private: true,
      type: "module",
      dependencies: { "@aetheros/tts-client": `file:./${pack!.filename}` },
      devDependencies: { "@types/node": typesNode },
    }),
  );
  await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: scratch, env: cleanEnv });
  for (const file of ["consumer.mjs", "consumer.ts"])
    await copyFile(join(REPO_ROOT, "test", "client", "consumers", file), join(scratch, file));
}, 600_000);
afterAll(async () => {
  await running.app.close();
  await rm(scratch, { recursive: true, force: true });
});

describe("@aetheros/tts-client from its packed tarball", () => {
  it("holds compiled JavaScript and declarations only, and installs without the server's dependencies", () => {
    expect(packed).toContain("package.json");
    expect(packed).toContain("dist/clients/node/src/index.js");
    expect(packed).toContain("dist/clients/node/src/web.d.ts");
    expect(packed.filter((path) => path !== "package.json").every((path) => /\.(js|d\.ts)$/.test(path))).toBe(true);
    expect(packed.some((path) => path.includes("/server/") || path.includes("/engine/"))).toBe(false);
    for (const serverDependency of ["onnxruntime-node", "piscina", "pino", "tsx"]) {
      expect(existsSync(join(scratch, "node_modules", serverDependency)), serverDependency).toBe(false);
    }
  });

  it("speaks unary and stream from plain node ESM", async () => {
    // Asynchronously: the server runs in this process.
    const { stdout } = await run(process.execPath, ["consumer.mjs", running.baseUrl, API_KEY], { cwd: scratch, timeout: 300_000 });
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ serving: true, unary: { sampleRate: VOICE_RATE } });
    // The live session: start, the sentence's words, its audio, its end.
    expect(result.live[0]).toBe("start");
    expect(result.live[1]).toEqual(["Live", "speech", "from", "plain", "node"]);
    expect(result.live.slice(2, -1).every((type: string) => type === "audio")).toBe(true);
    expect(result.live.length).toBeGreaterThan(3);
    expect(result.live.at(-1)).toBe("utteranceEnd");
    expect(result.invalid).toMatchObject({ code: "InvalidArgument", message: expect.stringMatching(/^config\.speed: /) });

    const unary = await readFile(join(scratch, "unary.wav"));
    expect(await probe(unary)).toEqual({ codec: "pcm_s16le", sampleRate: VOICE_RATE, channels: 1 });
    expect(Math.abs((await decode(unary)).length / VOICE_RATE - result.unary.duration)).toBeLessThanOrEqual(0.02);

    expect(result.cases[0]).toBe("start");
    expect(result.cases.at(-1)).toBe("summary");
    expect(result.chunks).toBeGreaterThan(0);
    const streamed = await readFile(join(scratch, "stream.wav"));
    expect(await probe(streamed)).toEqual({ codec: "pcm_s16le", sampleRate: VOICE_RATE, channels: 1 });
    expect((await decode(streamed)).length / VOICE_RATE).toBeGreaterThan(1.5);
  });

  it.each([
    { module: "node16", moduleResolution: "node16" },
    { module: "nodenext", moduleResolution: "nodenext" },
    { module: "esnext", moduleResolution: "bundler" },
  ])("type-checks a consumer with strict and exactOptionalPropertyTypes under moduleResolution $moduleResolution", async (resolution) => {
    const tsconfig = `tsconfig.${resolution.moduleResolution}.json`;
    await writeFile(
      join(scratch, tsconfig),
      JSON.stringify({
        compilerOptions: {
          ...resolution,
          target: "es2022",
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          // The installed declarations are checked too, under these settings.
          skipLibCheck: false,
          noEmit: true,
          types: ["node"],
        },
        files: ["consumer.ts"],
      }),
    );
    const result = await run(process.execPath, [TSC, "-p", tsconfig], { cwd: scratch }).catch((error: { stdout: string }) => error);
    expect(result.stdout).toBe("");
  });
});
