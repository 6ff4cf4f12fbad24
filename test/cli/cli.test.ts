// The real CLI, run as operators run it (`node bin/aetheros-tts.mjs ...` in a child
// process), against a real server this file starts (with API keys on, so --api-key is
// exercised too) or, with --local, with the engine in its own process. Files it writes
// are checked by ffprobe/ffmpeg.

import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../server/entry-point.js";
import { startServer, type RunningServer } from "../server/running-server.js";
import { decode, probe, VOICE, VOICE_RATE } from "../synthesis/support.js";
import { DEFAULT_CONFIG, DEFAULT_MODEL, MODELS_DIR } from "../support/voice.js";

const API_KEY = "cli-test-key-2b9e4f7a1c6d";
const BIN = join(REPO_ROOT, "bin", "aetheros-tts.mjs");

let running: RunningServer;
let dir: string;
beforeAll(async () => {
  running = await startServer({ API_KEYS: API_KEY });
  dir = await mkdtemp(join(tmpdir(), "tts-cli-"));
});
afterAll(async () => {
  await running.app.close();
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the bin with `args` (asynchronously: the server shares this process's event loop). */
function cli(args: string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: REPO_ROOT, env: { ...process.env, MODELS_DIR, ...env }, timeout: 100_000, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}

/** Like cli(), with stdout as bytes (for audio written to stdout). */
function cliBinary(args: string[], input?: string): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: REPO_ROOT, env: { ...process.env, MODELS_DIR }, encoding: "buffer", timeout: 100_000, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, stdout, stderr: stderr.toString() });
      },
    );
    child.stdin?.end(input);
  });
}

/** A command against the test's server, with the key. */
const remote = (args: string[]) => cli([...args, "--server", running.baseUrl, "--api-key", API_KEY]);

function expectSuccess(run: Run): void {
  expect(run, `exit code, stderr: ${run.stderr}`).toMatchObject({ code: 0 });
}

describe("say", () => {
  it('`say "Hello there." -o hello.mp3 --format mp3 --speed 1.1` writes an MP3 that ffmpeg decodes', async () => {
    const output = join(dir, "hello.mp3");
    const run = await remote(["say", "Hello there.", "-o", output, "--format", "mp3", "--speed", "1.1"]);
    expectSuccess(run);
    expect(run.stdout).toContain(`${output}: `);
    expect(run.stdout).toContain(`at ${VOICE_RATE} Hz by piper:${VOICE}`);

    const bytes = await readFile(output);
    expect(await probe(bytes)).toEqual({ codec: "mp3", sampleRate: VOICE_RATE, channels: 1 });
    const seconds = (await decode(bytes)).length / VOICE_RATE;
    expect(seconds).toBeGreaterThan(0.4);
    expect(seconds).toBeLessThan(3);
    // The duration the CLI printed is the server's (MP3 decoders add up to a few frames).
    const printed = Number(/: ([\d.]+) s at/.exec(run.stdout)?.[1]);
    expect(Math.abs(seconds - printed)).toBeLessThan(0.2);
  });

  it("`say --ssml DOC` speaks the document from a file or stdin: its break is in the audio; a bad one gets the server's line and column", async () => {
    const document = '<speak>Hello.<break time="2s"/>Goodbye.</speak>';
    await writeFile(join(dir, "doc.xml"), document);
    const fromFile = await remote(["say", "--ssml", join(dir, "doc.xml"), "-o", join(dir, "ssml.wav")]);
    expectSuccess(fromFile);
    // The break is 2 s of digital silence: a run of 44,100 zero samples at 22,050 Hz.
    const longestSilence = (samples: Int16Array) => {
      let longest = 0;
      let run = 0;
      for (const sample of samples) {
        run = sample === 0 ? run + 1 : 0;
        longest = Math.max(longest, run);
      }
      return longest;
    };
    expect(longestSilence(await decode(await readFile(join(dir, "ssml.wav"))))).toBeGreaterThanOrEqual(2 * VOICE_RATE);
    const server = ["--server", running.baseUrl, "--api-key", API_KEY];
    const fromStdin = await cli(["say", "--ssml", "-", "-o", join(dir, "stdin.wav"), ...server], {}, document);
    expectSuccess(fromStdin);
    expect(longestSilence(await decode(await readFile(join(dir, "stdin.wav"))))).toBeGreaterThanOrEqual(2 * VOICE_RATE);
    const bad = await cli(["say", "--ssml", "-", "-o", join(dir, "never.wav"), ...server], {}, "<speak>Hello");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/ssml: line 1, column \d+/);
  });

  it("`--rate 16000` gives a 16 kHz WAV; the format follows the file's extension", async () => {
    const output = join(dir, "rate.wav");
    const run = await remote(["say", "Hello there.", "-o", output, "--rate", "16000"]);
    expectSuccess(run);
    expect(run.stdout).toContain("at 16000 Hz");
    const bytes = await readFile(output);
    expect(await probe(bytes)).toEqual({ codec: "pcm_s16le", sampleRate: 16000, channels: 1 });
    expect((await decode(bytes)).length / 16000).toBeGreaterThan(0.4);
  });

  it("a value out of range (`--speed 9`) exits non-zero with the server's message naming speed and the allowed range", async () => {
    const output = join(dir, "never.wav");
    const run = await remote(["say", "Hello there.", "-o", output, "--speed", "9"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("invalid_argument");
    expect(run.stderr).toContain("config.speed: 9 is out of range; allowed 0.5 to 2.0");
    await expect(stat(output)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("a flag that is not a number, or no text at all, is refused before any call (exit 2)", async () => {
    const notNumber = await cli(["say", "Hello.", "-o", join(dir, "never.wav"), "--speed", "fast", "--server", "http://127.0.0.1:1"]);
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toContain('--speed: "fast" is not a number');
    const noText = await cli(["say", "-o", join(dir, "never.wav"), "--server", "http://127.0.0.1:1"]);
    expect(noText.code).toBe(2);
    expect(noText.stderr).toContain("say: no text given");
  });

  it("`--local` runs the engine in process (no server: --server points nowhere) and writes a decodable WAV", async () => {
    const output = join(dir, "local.wav");
    const run = await cli(["say", "Hello there.", "-o", output, "--local", "--server", "http://127.0.0.1:1"]);
    expectSuccess(run);
    expect(run.stdout).toContain(`at ${VOICE_RATE} Hz by piper:${VOICE}`);
    const bytes = await readFile(output);
    expect(await probe(bytes)).toEqual({ codec: "pcm_s16le", sampleRate: VOICE_RATE, channels: 1 });
    const printed = Number(/: ([\d.]+) s at/.exec(run.stdout)?.[1]);
    expect(printed).toBeGreaterThan(0.4);
    expect(Math.abs((await decode(bytes)).length / VOICE_RATE - printed)).toBeLessThanOrEqual(0.01);
  });
});

describe("voices", () => {
  it("`voices list` prints the installed voice, marked default", async () => {
    const run = await remote(["voices", "list"]);
    expectSuccess(run);
    const line = run.stdout.split("\n").find((l) => l.startsWith(VOICE));
    // The server is ready, so the default voice is loaded.
    expect(line?.split("\t")).toEqual([`${VOICE} (default)`, "en-US", "medium", `${VOICE_RATE} Hz`, "1 speaker(s)", "loaded"]);
  });

  it("`voices list --local` prints the same columns without a server, and filters by --language as the server does", async () => {
    const nowhere = ["--local", "--server", "http://127.0.0.1:1"];
    const all = await cli(["voices", "list", ...nowhere]);
    expectSuccess(all);
    expect(all.stdout).toBe(`${VOICE} (default)\ten-US\tmedium\t${VOICE_RATE} Hz\t1 speaker(s)\n`);
    const english = await cli(["voices", "list", "--language", "en_us", ...nowhere]);
    expect(english.stdout).toBe(all.stdout);
  });

  it("`voices list --language de` with no German voice says so, names what is installed, and exits 1 (local and remote)", async () => {
    for (const run of [
      await cli(["voices", "list", "--language", "de", "--local", "--server", "http://127.0.0.1:1"]),
      await remote(["voices", "list", "--language", "de"]),
    ]) {
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toBe(`aetheros-tts: no voice for de; installed: ${VOICE} (en-US)\n`);
    }
  });

  it("`voices fetch` of a voice MODELS_DIR already holds reports it installed, without downloading or touching the files", async () => {
    const models = await mkdtemp(join(tmpdir(), "tts-cli-models-"));
    try {
      const model = join(models, `${VOICE}.onnx`);
      const config = `${model}.json`;
      await copyFile(DEFAULT_MODEL, model);
      await copyFile(DEFAULT_CONFIG, config);
      const before = await Promise.all([stat(model), stat(config)]);

      const run = await cli(["voices", "fetch", VOICE], { MODELS_DIR: models });
      expectSuccess(run);
      expect(run.stdout).toContain(`${VOICE}: already installed in ${models}`);
      // With no name it fetches the default voice (PIPER_MODEL_NAME), as `npm run voices:fetch` does.
      const byDefault = await cli(["voices", "fetch"], { MODELS_DIR: models, PIPER_MODEL_NAME: VOICE });
      expectSuccess(byDefault);
      expect(byDefault.stdout).toContain(`${VOICE}: already installed in ${models}`);
      expect(byDefault.stderr).not.toContain("fetching");
      // fetchVoice logs "fetching <voice> from <source>" before any download.
      expect(run.stderr).not.toContain("fetching");
      const after = await Promise.all([stat(model), stat(config)]);
      expect(after.map((s) => [s.ino, s.mtimeMs, s.size])).toEqual(before.map((s) => [s.ino, s.mtimeMs, s.size]));
    } finally {
      await rm(models, { recursive: true, force: true });
    }
  });

  it("`voices fetch` refuses a name that is not a voice name, before any download", async () => {
    const run = await cli(["voices", "fetch", "../escape"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('not a voice name: "../escape"');
    expect(run.stderr).not.toContain("fetching");
  });
});

describe("the command line itself", () => {
  it("`--version` prints the package's version and exits 0, without a stack trace", async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    const run = await cli(["--version"]);
    expect(run).toEqual({ code: 0, stdout: `aetheros-tts ${version}\n`, stderr: "" });
  });

  it("no arguments, an unknown command or an unknown flag print the usage to stderr and exit 2", async () => {
    for (const args of [[], ["speak"], ["say", "Hello.", "--bogus"]]) {
      const run = await cli(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain("usage:");
      expect(run.stderr).not.toContain("    at ");
    }
    expect((await cli(["say", "Hello.", "--bogus"])).stderr).toContain("'--bogus'");
  });

  it("`--help` explains every flag with its meaning and default, and exits 0", async () => {
    const run = await cli(["--help"]);
    expectSuccess(run);
    for (const flag of [
      "--output",
      "--format",
      "--voice",
      "--speaker",
      "--language",
      "--rate",
      "--speed",
      "--pitch",
      "--volume",
      "--peak-normalize",
      "--ssml",
      "--server",
      "--api-key",
      "--local",
    ]) {
      const line = run.stdout.split("\n").find((l) => l.trimStart().startsWith(flag) || l.includes(`, ${flag}`));
      expect(line, flag).toBeDefined();
      // A flag followed by what it means, not only its name.
      expect(line!.trim().split(/\s{2,}/).length, flag).toBeGreaterThanOrEqual(2);
    }
    expect(run.stdout).toContain("default http://127.0.0.1:8002");
    expect(run.stdout).toContain("0.5 to 2.0 (default 1)");
  });

  it("`say` without -o refuses (exit 2) and writes no file", async () => {
    const run = await cli(["say", "Hello.", "--server", "http://127.0.0.1:1"], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("say: -o FILE is required (-o - writes the audio to stdout)");
    await expect(stat(join(REPO_ROOT, "speech.wav"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("`-o` without an extension, or with an unknown one, blames the file name and points at --format (exit 2)", async () => {
    const bare = await cli(["say", "Hello.", "-o", join(dir, "speech"), "--server", "http://127.0.0.1:1"]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain(`-o ${join(dir, "speech")}: the file name has no extension to take the format from; pass --format (`);
    const odd = await cli(["say", "Hello.", "-o", join(dir, "speech.abc"), "--server", "http://127.0.0.1:1"]);
    expect(odd.code).toBe(2);
    expect(odd.stderr).toContain(".abc is not a format");
    expect(odd.stderr).not.toContain("--format: ");
  });

  it("`say - -o - --format wav` reads the text from stdin and writes the audio to stdout, the summary to stderr", async () => {
    const run = await cliBinary(
      ["say", "-", "-o", "-", "--format", "wav", "--server", running.baseUrl, "--api-key", API_KEY],
      "Hello from stdin.\n",
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.subarray(0, 4).toString()).toBe("RIFF");
    expect(await probe(run.stdout)).toEqual({ codec: "pcm_s16le", sampleRate: VOICE_RATE, channels: 1 });
    expect(run.stderr).toContain(`stdout: `);
    expect(run.stderr).toContain(`by piper:${VOICE}`);
    // -o - has no extension: the format must be given.
    const noFormat = await cli(["say", "Hello.", "-o", "-", "--server", running.baseUrl]);
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr).toContain("-o -: stdout has no extension to take the format from; pass --format");
    // Empty stdin is no text.
    const empty = await cli(["say", "-", "-o", join(dir, "never.wav"), "--server", running.baseUrl], {}, "");
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("say: no text given (stdin was empty)");
  });

  it("npm runs the project's scripts without warning about project config (no onnxruntime-node-install in .npmrc)", async () => {
    const run = await new Promise<Run>((resolve) =>
      execFile("npm", ["pkg", "get", "name"], { cwd: REPO_ROOT }, (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : 1, stdout, stderr }),
      ),
    );
    expectSuccess(run);
    expect(run.stderr).not.toContain("Unknown project config");
    // The setting lives where the installs that need it run: CI, and the image's build stage.
    expect(await readFile(join(REPO_ROOT, ".ci/run"), "utf8")).toContain("export ONNXRUNTIME_NODE_INSTALL=skip");
    expect(await readFile(join(REPO_ROOT, "Dockerfile"), "utf8")).toContain("ONNXRUNTIME_NODE_INSTALL=skip");
  });
});

describe("health", () => {
  it("prints the server's health as JSON, SERVING", async () => {
    const run = await remote(["health"]);
    expectSuccess(run);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: "HEALTH_STATUS_SERVING", modelLoaded: true, defaultVoice: VOICE });
  });

  it("without --api-key the server's refusal is printed and the exit code is 1", async () => {
    const run = await cli(["health", "--server", running.baseUrl]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("unauthenticated");
    expect(run.stdout).toBe("");
  });
});
