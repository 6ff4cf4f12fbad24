// The README's examples, run against the real server: every grpcurl and curl command of
// its ```sh (or bash, shell) blocks, and `printf ... | curl` pipelines, runs through bash
// with the real grpcurl and curl, and each must exit 0 and print (or write) what shows it
// worked; the `$ command` transcripts of plain ``` blocks must print exactly the output
// shown. Also checks that the configuration table and .env.example list every variable
// the config parser reads, with the parser's defaults.
//
// Extraction is generic: a new README example is picked up and, when it calls something
// CHECKS has no entry for, fails until a check is added.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { loadConfig } from "../../src/config/config.js";
import { REPO_ROOT } from "../server/entry-point.js";
import { startServer, type RunningServer } from "../server/running-server.js";

// Where `npm test`'s pretest (tools/prerequisites.mjs, TOOLS_BIN) installs grpcurl.
const TOOLS_BIN = join(REPO_ROOT, ".tools", "bin");
const README_PORT = "localhost:8002";

// ---------------------------------------------------------------- extraction

interface Block {
  readonly index: number;
  readonly lang: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lines: { text: string; line: number }[];
}

interface Example {
  readonly command: string;
  readonly line: number;
  readonly block: Block;
  readonly tool: "grpcurl" | "curl";
  /** What the command calls on localhost:8002: a full method name, a grpcurl verb (list, describe) or a URL path. */
  readonly calls: string | undefined;
  /** For a `$ command` transcript line, the output shown under it. */
  readonly expectedOutput?: string;
}

function fencedBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let open: Block | undefined;
  markdown.split("\n").forEach((text, i) => {
    const fence = /^```(\S*)\s*$/.exec(text);
    if (open === undefined && fence) open = { index: blocks.length, lang: fence[1] ?? "", line: i + 1, lines: [] };
    else if (open !== undefined && /^```\s*$/.test(text)) {
      blocks.push(open);
      open = undefined;
    } else open?.lines.push({ text, line: i + 1 });
  });
  return blocks;
}

/** Joins `\` continuations; drops blank and `#` comment lines. */
function logicalLines(lines: Block["lines"], continuationPrefix = /^/): { text: string; line: number }[] {
  const joined: { text: string; line: number }[] = [];
  let pending: { text: string; line: number } | undefined;
  for (const { text, line } of lines) {
    const part = pending ? text.replace(continuationPrefix, "").trim() : text;
    const current = pending ? { text: `${pending.text} ${part}`, line: pending.line } : { text, line };
    if (/\\\s*$/.test(current.text)) pending = { ...current, text: current.text.replace(/\s*\\\s*$/, "") };
    else {
      pending = undefined;
      if (current.text.trim() !== "" && !current.text.trim().startsWith("#")) joined.push({ ...current, text: current.text.trim() });
    }
  }
  return joined;
}

const CLIENT_COMMAND = /^(?:grpcurl|curl)\s|^(?:printf|echo)\s.*\|\s*(?:grpcurl|curl)\s/;

function example(command: string, line: number, block: Block, expectedOutput?: string): Example {
  const tool = /(?:^|\|\s*)grpcurl\s/.test(command) ? "grpcurl" : "curl";
  const calls =
    tool === "grpcurl"
      ? /localhost:8002\s+([^\s'"]+)/.exec(command)?.[1]
      : /(?:https?:\/\/)?localhost:8002\/([^\s'"?]*)/.exec(command)?.[1];
  return { command, line, block, tool, calls, expectedOutput };
}

function readmeExamples(blocks: Block[]): Example[] {
  const examples: Example[] = [];
  for (const block of blocks) {
    if (["sh", "bash", "shell"].includes(block.lang)) {
      for (const { text, line } of logicalLines(block.lines)) {
        if (CLIENT_COMMAND.test(text)) examples.push(example(text, line, block));
      }
    } else if (block.lang === "" && block.lines.some(({ text }) => text.startsWith("$ "))) {
      // A transcript: `$ command` lines (continued with `> `), each followed by its output.
      let current: { command: { text: string; line: number }[]; output: string[] } | undefined;
      const flush = (): void => {
        if (current === undefined) return;
        const [command] = logicalLines(current.command, /^>\s?/);
        if (command && CLIENT_COMMAND.test(command.text))
          examples.push(example(command.text, command.line, block, current.output.join("\n")));
      };
      for (const { text, line } of block.lines) {
        const continuing = current !== undefined && current.output.length === 0 && /\\\s*$/.test(current.command.at(-1)?.text ?? "");
        if (text.startsWith("$ ")) {
          flush();
          current = { command: [{ text: text.slice(2), line }], output: [] };
        } else if (continuing) current?.command.push({ text, line });
        else current?.output.push(text);
      }
      flush();
    }
  }
  return examples;
}

/** `VAR=value ... npm start` in a block: its examples run against a server started with that environment. */
function blockServerEnv(block: Block): { env: Record<string, string>; setup: string[] } | undefined {
  const lines = logicalLines(block.lines);
  const start = lines.findIndex(({ text }) => /^(?:[A-Z][A-Z0-9_]*=\S*\s+)+npm start$/.test(text));
  if (start < 0) return undefined;
  const env = Object.fromEntries([...(lines[start]?.text.matchAll(/([A-Z][A-Z0-9_]*)=(\S*)/g) ?? [])].map((m) => [m[1], m[2]]));
  // What the block runs before starting the server (e.g. openssl making the certificate).
  const setup = lines
    .slice(0, start)
    .map(({ text }) => text)
    .filter((text) => !CLIENT_COMMAND.test(text) && !/^npm\s/.test(text));
  return { env, setup };
}

const README = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const BLOCKS = fencedBlocks(README);
const EXAMPLES = readmeExamples(BLOCKS);

// ---------------------------------------------------------------- running

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function bash(script: string, cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script], {
      cwd,
      env: { ...process.env, PATH: `${TOOLS_BIN}:${process.env.PATH ?? ""}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

function snapshot(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).map((name) => [name, `${statSync(join(dir, name)).mtimeMs}:${statSync(join(dir, name)).size}`]));
}

interface Context {
  readonly server: RunningServer;
  readonly dir: string;
}

const tmpRoot = mkdtempSync(join(tmpdir(), "readme-examples-"));
const servers = new Map<string, Promise<RunningServer>>();
const contexts = new Map<number, Promise<Context>>();

function serverWith(env: Record<string, string>): Promise<RunningServer> {
  const key = JSON.stringify(env);
  let server = servers.get(key);
  if (server === undefined) {
    // The cache is on (in a folder of its own) so GetCacheStats and ClearCache have something to show.
    server = startServer({ CACHE_ENABLED: "true", CACHE_DIR: join(tmpRoot, `cache-${servers.size}`), ...env });
    servers.set(key, server);
  }
  return server;
}

/** One working folder per README block; a block with `VAR=... npm start` gets its own server. */
function contextFor(block: Block): Promise<Context> {
  let context = contexts.get(block.index);
  if (context === undefined) {
    context = (async () => {
      const dir = mkdtempSync(join(tmpRoot, `block-${block.line}-`));
      const own = blockServerEnv(block);
      if (own === undefined) return { server: await serverWith({}), dir };
      for (const command of own.setup) {
        const run = await bash(command, dir);
        if (run.code !== 0)
          throw new Error(`README.md block at line ${block.line}: setup \`${command}\` exited ${run.code}:\n${run.stderr}`);
      }
      // Relative file names in the environment (TLS_CERT_FILE=cert.pem) are in the block's folder.
      const env = Object.fromEntries(
        Object.entries(own.env).map(([name, value]) => [name, existsSync(join(dir, value)) && value !== "" ? join(dir, value) : value]),
      );
      return { server: await serverWith(env), dir };
    })();
    contexts.set(block.index, context);
  }
  return context;
}

// ---------------------------------------------------------------- checks

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON of many shapes, read field by field in assertions
type Json = Record<string, any>;

interface Outcome {
  readonly example: Example;
  readonly stdout: string;
  readonly server: RunningServer;
  /** The files the command wrote (new or changed), by name; reading one marks it checked. */
  readonly written: string[];
  file(name: string): Buffer;
}

/** grpcurl prints each message as its own pretty-printed JSON object. */
function jsonMessages(text: string): Json[] {
  return text
    .trim()
    .split(/\n(?=\{)/)
    .map((message) => JSON.parse(message) as Json);
}

function oneJson(text: string): Json {
  const messages = jsonMessages(text);
  expect(messages, "exactly one JSON message").toHaveLength(1);
  return messages[0] as Json;
}

const DECODED: Record<string, { format: string; codec: string } | undefined> = {
  AUDIO_ENCODING_WAV: { format: "wav", codec: "pcm_s16le" },
  AUDIO_ENCODING_MP3: { format: "mp3", codec: "mp3" },
  AUDIO_ENCODING_OGG_OPUS: { format: "ogg", codec: "opus" },
  AUDIO_ENCODING_FLAC: { format: "flac", codec: "flac" },
};

const ENCODING_OF_EXTENSION: Record<string, string> = {
  wav: "AUDIO_ENCODING_WAV",
  mp3: "AUDIO_ENCODING_MP3",
  ogg: "AUDIO_ENCODING_OGG_OPUS",
  opus: "AUDIO_ENCODING_OGG_OPUS",
  flac: "AUDIO_ENCODING_FLAC",
  pcm: "AUDIO_ENCODING_PCM",
};

let decoded = 0;

/** The bytes decode (ffprobe) as `encoding`, at `sampleRate` when given (Opus always decodes at 48 kHz). */
async function expectAudio(audio: Buffer, encoding: string, sampleRate?: number): Promise<void> {
  expect(audio.length, "audio bytes").toBeGreaterThan(1000);
  if (encoding === "AUDIO_ENCODING_PCM") return expect(audio.length % 2, "s16le PCM has whole samples").toBe(0);
  const expected = DECODED[encoding];
  if (expected === undefined) throw new Error(`no decoder check for encoding ${encoding}`);
  const file = join(tmpRoot, `decode-${++decoded}`);
  writeFileSync(file, audio);
  const probe = await bash(`ffprobe -v error -show_entries format=format_name:stream=codec_name,sample_rate -of json ${file}`, tmpRoot);
  expect(probe.code, probe.stderr).toBe(0);
  const { format, streams } = JSON.parse(probe.stdout) as Json;
  expect(format.format_name).toBe(expected.format);
  expect(streams[0].codec_name).toBe(expected.codec);
  if (sampleRate !== undefined && expected.codec !== "opus") expect(Number(streams[0].sample_rate)).toBe(sampleRate);
}

async function expectSynthesizeResponse(response: Json): Promise<void> {
  expect(response.modelUsed).toMatch(/^piper:/);
  expect(response.durationSeconds).toBeGreaterThan(0);
  await expectAudio(Buffer.from(response.audio as string, "base64"), response.encoding as string, response.sampleRate as number);
}

/** start, chunks numbered from 0, summary; the chunks together are one file of the start's encoding. */
async function expectStream(messages: Json[]): Promise<void> {
  const [first, ...chunks] = messages;
  const last = chunks.pop();
  expect(first?.start, "the stream opens with start").toBeDefined();
  expect(last?.summary, "the stream closes with summary").toBeDefined();
  expect(chunks.length).toBeGreaterThan(0);
  for (const [i, message] of chunks.entries()) expect(message.chunk?.sequence ?? 0, "chunk sequence").toBe(i);
  const audio = Buffer.concat(chunks.map((message) => Buffer.from(message.chunk.audio as string, "base64")));
  expect(Number(last?.summary.chunkCount)).toBe(chunks.length);
  expect(Number(last?.summary.audioBytes)).toBe(audio.length);
  await expectAudio(audio, first?.start.encoding as string, first?.start.sampleRate as number);
}

/** Connect streaming envelopes: flag byte, 4-byte big-endian length, JSON; the last is end-stream (flag 2). */
function connectEnvelopes(bytes: Buffer): { flags: number; message: Json }[] {
  const envelopes: { flags: number; message: Json }[] = [];
  for (let at = 0; at < bytes.length; ) {
    expect(bytes.length - at, "a whole envelope header").toBeGreaterThanOrEqual(5);
    const length = bytes.readUInt32BE(at + 1);
    envelopes.push({ flags: bytes[at] as number, message: JSON.parse(bytes.subarray(at + 5, at + 5 + length).toString()) as Json });
    at += 5 + length;
  }
  return envelopes;
}

async function expectAudioFiles(outcome: Outcome): Promise<void> {
  for (const name of outcome.written) {
    const encoding = ENCODING_OF_EXTENSION[name.split(".").pop() ?? ""];
    if (encoding !== undefined) await expectAudio(outcome.file(name), encoding);
  }
}

/** stream_format "sse": speech.audio.delta events whose audio makes one file of the requested format, then speech.audio.done. */
async function expectSpeechEvents(outcome: Outcome): Promise<void> {
  const events = outcome.stdout
    .trimEnd()
    .split("\n\n")
    .map((event) => JSON.parse(event.replace(/^data: /, "")) as Json);
  const done = events.pop();
  expect(done?.type, "the last event").toBe("speech.audio.done");
  expect(events.length).toBeGreaterThan(0);
  for (const event of events) expect(event.type).toBe("speech.audio.delta");
  const format = /"response_format":\s*"(\w+)"/.exec(outcome.example.command)?.[1] ?? "mp3";
  await expectAudio(Buffer.concat(events.map((event) => Buffer.from(event.audio as string, "base64"))), ENCODING_OF_EXTENSION[format]!);
}

function expectCacheStats(stats: Json): void {
  expect(stats.enabled).toBe(true);
  expect(stats.total).toBeDefined();
  expect(stats.tiers.map((tier: Json) => tier.tier)).toContain("memory");
}

/** The server's cache entry count, asked in-process over Connect (TLS and API keys as configured). */
async function cacheEntries(server: RunningServer): Promise<number> {
  const { tls, adminApiKeys, apiKeys } = server.config;
  const key = adminApiKeys[0] ?? apiKeys[0];
  const transport = createConnectTransport({
    baseUrl: `${tls ? "https" : "http"}://localhost:${server.server.port}`,
    httpVersion: "1.1",
    nodeOptions: tls ? { ca: readFileSync(tls.certFile) } : {},
    interceptors:
      key === undefined
        ? []
        : [
            (next) => (request) => {
              request.header.set("authorization", `Bearer ${key}`);
              return next(request);
            },
          ],
  });
  const stats = await createClient(TtsService, transport).getCacheStats({});
  return Number(stats.total?.entries ?? -1);
}

const TTS = "aetheros.tts.v1.TtsService";

/** What each call must show. Keyed by Example.calls. */
const CHECKS: Record<string, (outcome: Outcome) => void | Promise<void>> = {
  list: ({ stdout }) => expect(stdout.trim().split("\n")).toEqual(expect.arrayContaining([TTS, "grpc.health.v1.Health"])),
  describe: ({ stdout }) => {
    expect(stdout).toContain(`${TTS} is a service:`);
    for (const method of TtsService.methods) expect(stdout).toContain(`rpc ${method.name} (`);
  },
  [`${TTS}/Synthesize`]: async (outcome) => {
    // grpcurl prints the response; the curl example pipes it into a file.
    if (outcome.stdout.trim() !== "") await expectSynthesizeResponse(oneJson(outcome.stdout));
    await expectAudioFiles(outcome);
  },
  [`${TTS}/SynthesizeStream`]: async (outcome) => {
    if (outcome.stdout.trim() !== "") await expectStream(jsonMessages(outcome.stdout));
    for (const name of outcome.written) {
      const envelopes = connectEnvelopes(outcome.file(name));
      const end = envelopes.pop();
      expect(end?.flags, "the Connect stream ends with an end-stream message").toBe(2);
      expect(end?.message.error, "the end-stream message carries no error").toBeUndefined();
      expect(envelopes.every(({ flags }) => flags === 0)).toBe(true);
      await expectStream(envelopes.map(({ message }) => message));
    }
  },
  [`${TTS}/StreamingSynthesize`]: async (outcome) => {
    const marks = [...outcome.example.command.matchAll(/<mark name=\\"(\w+)\\"/g)].map((match) => match[1]);
    const messages =
      outcome.stdout.trim() !== ""
        ? jsonMessages(outcome.stdout)
        : outcome.written.flatMap((name) => {
            const envelopes = connectEnvelopes(outcome.file(name));
            const end = envelopes.pop();
            expect(end?.flags, "the Connect stream ends with an end-stream message").toBe(2);
            expect(end?.message.error, "the end-stream message carries no error").toBeUndefined();
            return envelopes.map(({ message }) => message);
          });
    const [first, ...rest] = messages;
    const last = rest.pop();
    expect(first?.start, "the stream opens with start").toBeDefined();
    expect(last?.utteranceEnd?.summary.sentenceCount, "an utterance of two sentences ends it").toBe(2);
    const words = rest.flatMap((message) => message.timestamps?.words ?? []);
    expect(words.map((word: Json) => word.word)).toEqual(["Hello", "there", "How", "are", "you", "today"]);
    const timepoints = rest.flatMap((message) => message.timestamps?.timepoints ?? []);
    expect(
      timepoints.map((point: Json) => point.markName),
      "each <mark> of an SSML input comes back",
    ).toEqual(marks);
    const audio = Buffer.concat(rest.flatMap((message) => (message.chunk ? [Buffer.from(message.chunk.audio as string, "base64")] : [])));
    await expectAudio(audio, first?.start.encoding as string, first?.start.sampleRate as number);
  },
  [`${TTS}/ListVoices`]: ({ stdout, example }) => {
    const { voices, defaultVoice } = oneJson(stdout);
    expect(defaultVoice).toBe("en_US-joe-medium");
    expect(voices.map((voice: Json) => voice.id)).toContain("en_US-joe-medium");
    const language = /"language":"([^"]+)"/.exec(example.command)?.[1];
    if (language !== undefined)
      for (const voice of voices) expect(voice.languageCode.toLowerCase()).toMatch(new RegExp(`^${language.toLowerCase()}`));
  },
  [`${TTS}/Health`]: ({ stdout }) => {
    const health = oneJson(stdout);
    expect(health.status).toBe("HEALTH_STATUS_SERVING");
    expect(health.modelLoaded).toBe(true);
    expect(health.loadedVoices).toContain("en_US-joe-medium");
  },
  [`${TTS}/GetCacheStats`]: ({ stdout }) => expectCacheStats(oneJson(stdout)),
  [`${TTS}/ClearCache`]: async ({ stdout, server }) => {
    const cleared = oneJson(stdout);
    expect(
      Object.keys(cleared).every((key) => ["entriesRemoved", "bytesRemoved"].includes(key)),
      stdout,
    ).toBe(true);
    expect(await cacheEntries(server)).toBe(0);
  },
  "grpc.health.v1.Health/Check": ({ stdout }) => expect(oneJson(stdout)).toEqual({ status: "SERVING" }),
  "v1/audio/speech": (outcome) => {
    if (outcome.stdout.startsWith("data: ")) return expectSpeechEvents(outcome);
    expect(outcome.written.length, "the example saves the audio").toBeGreaterThan(0);
    return expectAudioFiles(outcome);
  },
  "v1/models": ({ stdout }) => {
    const list = oneJson(stdout);
    expect(list.object).toBe("list");
    expect(list.data.map((model: Json) => model.id)).toEqual(expect.arrayContaining(["tts-1", "piper:en_US-joe-medium"]));
  },
  metrics: ({ stdout }) => {
    expect(stdout).toMatch(/^grpc_server_handled_total\{/m);
    expect(stdout).toMatch(/^aetheros_tts_voices_loaded \d/m);
  },
};

// ---------------------------------------------------------------- tests

beforeAll(() => {
  if (!existsSync(join(TOOLS_BIN, "grpcurl"))) {
    throw new Error(`grpcurl is missing from ${TOOLS_BIN}: run \`node tools/prerequisites.mjs test\` (npm test's pretest does)`);
  }
});

afterAll(async () => {
  // A server that failed to start has failed its examples already.
  await Promise.all(
    [...servers.values()].map((server) =>
      server.then(
        (running) => running.app.close(),
        () => undefined,
      ),
    ),
  );
  rmSync(tmpRoot, { recursive: true, force: true });
});

describe("README examples", () => {
  const commands = EXAMPLES.filter((found) => found.expectedOutput === undefined);

  it("finds the examples, with every TtsService RPC called by grpcurl and by curl", () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(15);
    expect(
      EXAMPLES.some((found) => found.expectedOutput !== undefined),
      "the Errors transcript",
    ).toBe(true);
    for (const method of TtsService.methods) {
      for (const tool of ["grpcurl", "curl"]) {
        const found = commands.some((candidate) => candidate.tool === tool && candidate.calls === `${TTS}/${method.name}`);
        expect(found, `a ${tool} example of ${method.name} in a \`\`\`sh block`).toBe(true);
      }
    }
  });

  for (const found of EXAMPLES) {
    it(`README.md:${found.line}: ${found.command}`, async () => {
      if (found.calls === undefined)
        throw new Error(`README.md:${found.line}: cannot tell what this calls on ${README_PORT}: ${found.command}`);
      const { server, dir } = await contextFor(found.block);
      const command = found.command.replaceAll(README_PORT, `localhost:${server.server.port}`);

      if (found.expectedOutput !== undefined) {
        // A transcript line: the output, stdout and stderr as a terminal shows them, exactly.
        const run = await bash(`exec 2>&1\n${command}`, dir);
        expect(run.stdout.trimEnd()).toBe(found.expectedOutput.trimEnd());
        return;
      }

      const check = CHECKS[found.calls];
      if (check === undefined) {
        throw new Error(
          `README.md:${found.line} calls "${found.calls}", which has no check: add one to CHECKS in test/readme/examples.test.ts`,
        );
      }
      const before = snapshot(dir);
      const run = await bash(command, dir);
      expect(run.code, `exit status; stderr:\n${run.stderr}`).toBe(0);
      const after = snapshot(dir);
      const written = [...after.keys()].filter((name) => before.get(name) !== after.get(name));
      const read = new Set<string>();
      const outcome: Outcome = {
        example: found,
        stdout: run.stdout,
        server,
        written,
        file: (name) => {
          read.add(name);
          return readFileSync(join(dir, name));
        },
      };
      expect(run.stdout.trim() !== "" || written.length > 0, "the command prints or writes something").toBe(true);
      await check(outcome);
      expect(
        written.filter((name) => !read.has(name)),
        "files the command wrote that no check looked at",
      ).toEqual([]);
    });
  }
});

// ---------------------------------------------------------------- configuration

/** The variables loadConfig reads, found by handing it an environment that records every read. */
function variablesTheParserReads(): string[] {
  const read = new Set<string>();
  loadConfig(
    new Proxy(
      {},
      {
        get: (_target, name) => {
          if (typeof name === "string") read.add(name);
          return undefined;
        },
      },
    ),
  );
  return [...read];
}

function readmeConfigTable(): Map<string, string> {
  const section = README.split(/^## /m).find((part) => part.startsWith("Configuration\n"));
  if (section === undefined) throw new Error("README.md has no ## Configuration section");
  const table = new Map<string, string>();
  for (const row of section.split("\n").filter((line) => /^\|\s*`[A-Z]/.test(line))) {
    const [names = "", defaultCell = ""] = row
      .split("|")
      .slice(1)
      .map((cell) => cell.trim());
    for (const [, name] of names.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) table.set(name as string, defaultCell);
  }
  return table;
}

function envExample(): Map<string, string> {
  const lines = readFileSync(join(REPO_ROOT, ".env.example"), "utf8").split("\n");
  return new Map(
    lines
      .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

describe("configuration", () => {
  const variables = variablesTheParserReads();
  const table = readmeConfigTable();
  const example = envExample();
  const defaults = loadConfig({});

  it("the parser reads variables (the recording environment works)", () => {
    expect(variables).toContain("SERVICE_PORT");
    expect(variables.length).toBeGreaterThanOrEqual(20);
  });

  it("the README table and .env.example list exactly the variables the parser reads", () => {
    expect([...table.keys()].sort()).toEqual([...variables].sort());
    expect([...example.keys()].sort()).toEqual([...variables].sort());
  });

  it.each(variables)("%s has the parser's default in the README and in .env.example", (variable) => {
    const cell = table.get(variable);
    const value = example.get(variable);
    if (cell === "unset") return expect(value, ".env.example leaves it empty").toBe("");
    const literal = /^`([^`]*)`$/.exec(cell ?? "")?.[1];
    expect(literal, `README default ${cell}`).toBeDefined();
    const refersTo = variables.filter((other) => other !== variable && literal?.includes(other));
    if (refersTo.length === 0) {
      expect(loadConfig({ [variable]: literal }), "setting the README's default changes nothing").toEqual(defaults);
      expect(value, ".env.example shows the README's default").toBe(literal);
      return;
    }
    // A default computed from other variables (MAX_REQUEST_BYTES): empty in .env.example, and
    // the README's formula gives what the parser uses, at the defaults and at other values.
    expect(value, ".env.example leaves a computed default empty").toBe("");
    for (const scale of [1, 20]) {
      const env = Object.fromEntries(refersTo.map((other) => [other, String(Number(envExample().get(other)) * scale)]));
      const formula = refersTo.reduce((text, other) => text.replaceAll(other, env[other] as string), literal as string);
      const computed = Function(
        `"use strict"; return (${formula.replaceAll("×", "*").replace(/\b(max|ceil)\(/g, "Math.$1(")});`,
      )() as number;
      expect(loadConfig({ ...env, [variable]: String(computed) }), `${variable} = ${formula} = ${computed}`).toEqual(loadConfig(env));
    }
  });
});
