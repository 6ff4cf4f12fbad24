// What the container image runs, run outside Docker (no Docker daemon on these machines):
// the build (tools/build.mjs into dist/), the Dockerfile's CMD against that build, and its
// HEALTHCHECK command with the port the server was given, so the check asks the server it
// belongs to. Also `npm start` handing SIGTERM to the server, as `docker run ... npm start`
// and process managers rely on.

import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../server/entry-point.js";
import { MODELS_DIR } from "../support/voice.js";

const dockerfile = readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8");
/** The JSON-array command of a Dockerfile instruction (CMD, or HEALTHCHECK ... CMD). */
function execForm(instruction: "CMD" | "HEALTHCHECK"): string[] {
  const line = dockerfile.split("\n").find((l) => l.startsWith(`${instruction} `));
  const json = line === undefined ? undefined : /CMD (\[.*\])\s*$/.exec(line)?.[1];
  if (json === undefined) throw new Error(`the Dockerfile has no exec-form ${instruction}`);
  return JSON.parse(json) as string[];
}
const CMD = execForm("CMD");
const HEALTHCHECK = execForm("HEALTHCHECK");

interface Started {
  readonly port: number;
  readonly logs: Record<string, unknown>[];
  /** Resolves once the process and every process writing its output have exited. */
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): void;
}

/** Runs `command` in the repository (the image's WORKDIR) and waits for its "serving" log line. */
function startLogging(command: string[], env: Record<string, string>): Promise<Started> {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      SERVICE_HOST: "127.0.0.1",
      SERVICE_PORT: "0",
      MODELS_DIR,
      CACHE_ENABLED: "false",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = "";
  child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
  // "close": the process has exited and so has everything holding its output (npm's child).
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === "serving") {
        const port = Number(logs.find((l) => l.msg === "listening")?.port);
        resolve({ port, logs, exited, stop: (signal = "SIGTERM") => child.kill(signal) });
      }
    });
    void exited.then((code) => reject(new Error(`${command.join(" ")} exited ${code} before serving:\n${stderr}`)));
  });
}

/** Runs the HEALTHCHECK command with this environment; its exit code and output. */
async function healthcheck(env: Record<string, string>): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(HEALTHCHECK[0]!, HEALTHCHECK.slice(1), {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
      timeout: 10_000,
    });
    return { code: 0, output: (stdout + stderr).trim() };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: (failed.stdout + failed.stderr).trim() };
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let built: Started;
beforeAll(async () => {
  await promisify(execFile)(process.execPath, ["tools/build.mjs"], { cwd: REPO_ROOT });
  built = await startLogging(CMD, { HEALTH_PORT: "0" });
}, 120_000);
afterAll(async () => {
  built?.stop();
  await built?.exited;
});

describe("the image's commands, outside Docker", () => {
  it("CMD runs the JavaScript build with plain node (no tsx, no TypeScript), which serves", async () => {
    expect(CMD).toEqual(["node", "dist/src/server/main.js"]);
    const response = await fetch(`http://127.0.0.1:${built.port}/aetheros.tts.v1.TtsService/Synthesize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "Hello from the build." }),
    });
    expect(response.status).toBe(200);
    const { audio } = (await response.json()) as { audio: string };
    expect(Buffer.from(audio, "base64").subarray(0, 4).toString()).toBe("RIFF");
  });

  it("HEALTHCHECK is a plain node script that asks the server on SERVICE_PORT, not a fixed port", async () => {
    expect(HEALTHCHECK).toEqual(["node", "dist/src/server/healthcheck.js"]);
    expect(await healthcheck({ SERVICE_PORT: String(built.port) })).toEqual({ code: 0, output: "SERVING" });
    const nobody = await closedPort();
    const refused = await healthcheck({ SERVICE_PORT: String(nobody) });
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`health check of http://127.0.0.1:${nobody} failed`);
  });

  it("HEALTHCHECK asks HEALTH_PORT when it is set (the plaintext health listener)", async () => {
    const healthPort = Number(built.logs.find((l) => l.msg === "listening")?.health_port);
    expect(healthPort).toBeGreaterThan(0);
    const nobody = await closedPort();
    // SERVICE_PORT points nowhere: only HEALTH_PORT can answer.
    expect(await healthcheck({ SERVICE_PORT: String(nobody), HEALTH_PORT: String(healthPort) })).toEqual({ code: 0, output: "SERVING" });
  });

  it("runs as a numeric non-root user over root-owned files, and .dockerignore keeps tests, secrets and caches out", () => {
    const user = /^USER (\S+)$/m.exec(dockerfile)?.[1];
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    const copies = runtime.split("\n").filter((l) => l.startsWith("COPY "));
    // Only what runs; only the folders the service writes belong to the runtime user.
    expect(copies.map((l) => l.replace(/--from=build |--chown=\S+ /g, ""))).toEqual([
      "COPY /app/package.json ./",
      "COPY /app/node_modules node_modules",
      "COPY /app/dist dist",
      "COPY /app/models models",
    ]);
    expect(copies.filter((l) => l.includes("--chown"))).toEqual([`COPY --from=build --chown=${user} /app/models models`]);
    expect(runtime).toMatch(/^\nFROM node:24-bookworm-slim\n/);
    const ignored = readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8").split("\n");
    for (const entry of ["test", "bench", ".env", ".env.*", ".cache", "node_modules", "dist", ".git"]) expect(ignored).toContain(entry);
  });
});

describe("npm start", () => {
  it("hands SIGTERM sent to npm to the server, which drains and exits (no orphan left serving)", async () => {
    const npm = await startLogging(["npm", "start", "--silent"], { SHUTDOWN_GRACE_SECONDS: "2" });
    npm.stop("SIGTERM");
    await npm.exited;
    expect(npm.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(["shutting down", "stopped"]));
    // Nothing answers on the port any more.
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(npm.port, "127.0.0.1");
      socket.once("connect", () => resolve(socket.destroy() !== undefined));
      socket.once("error", () => resolve(false));
    });
    expect(connected).toBe(false);
  }, 120_000);
});
