/**
 * aetheros-tts: the service from the shell.
 *   aetheros-tts say "Hello" -o hello.wav [--voice ID] [--format mp3] [--speed 1.1] [--pitch 1] [--volume 1]
 *                    [--rate 16000] [--speaker NAME] [--server URL | --local]
 *   aetheros-tts voices list [--language en] [--server URL | --local]
 *   aetheros-tts voices fetch [NAME ...]  (default: PIPER_MODEL_NAME; skips a voice MODELS_DIR already has)
 *   aetheros-tts health [--server URL]
 * Without --local it talks to a running server (default http://127.0.0.1:8002, gRPC);
 * --local runs the engine in this process with the same configuration variables as the server.
 */
import { writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { create, toJsonString } from "@bufbuild/protobuf";
import { pino } from "pino";
import { AudioEncoding, HealthResponseSchema, SynthesisConfigSchema, type SynthesisConfig } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { createTtsClient } from "../../clients/node/src/index.js";
import { loadConfig } from "../config/config.js";
import { createSynthesisStack } from "../synthesis/stack.js";
import { validateRequest } from "../synthesis/request.js";
import { progressBar } from "../voices/progress.js";
import { fetchVoice, isVoiceInstalled } from "../voices/fetch.js";
import { bcp47, matchesLanguage } from "../voices/language.js";

const FORMATS: Record<string, AudioEncoding> = {
  wav: AudioEncoding.WAV,
  pcm: AudioEncoding.PCM,
  mp3: AudioEncoding.MP3,
  ogg: AudioEncoding.OGG_OPUS,
  ogg_opus: AudioEncoding.OGG_OPUS,
  opus: AudioEncoding.OGG_OPUS,
  flac: AudioEncoding.FLAC,
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    output: { type: "string", short: "o" },
    voice: { type: "string" },
    speaker: { type: "string" },
    language: { type: "string" },
    format: { type: "string", short: "f" },
    rate: { type: "string" },
    speed: { type: "string" },
    pitch: { type: "string" },
    volume: { type: "string" },
    server: { type: "string", default: "http://127.0.0.1:8002" },
    "api-key": { type: "string" },
    local: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  },
});

const usage = `usage:
  aetheros-tts say TEXT [-o FILE] [--voice ID] [--format wav|pcm|mp3|ogg|flac] [--speed X] [--pitch X] [--volume X] [--rate HZ] [--speaker S] [--server URL | --local]
  aetheros-tts voices list [--language TAG] [--server URL | --local]
  aetheros-tts voices fetch [NAME ...]   (default: the PIPER_MODEL_NAME voice)
  aetheros-tts health [--server URL]`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function number(name: "speed" | "pitch" | "volume" | "rate"): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) fail(`--${name}: ${JSON.stringify(raw)} is not a number`);
  return value;
}

function synthesisConfig(): SynthesisConfig {
  const format = (values.format ?? (values.output?.split(".").pop() || "wav")).toLowerCase();
  const encoding = FORMATS[format];
  if (encoding === undefined) fail(`--format: ${JSON.stringify(format)} is not one of ${Object.keys(FORMATS).join(", ")}`);
  return create(SynthesisConfigSchema, {
    voice: values.voice ?? "",
    speaker: values.speaker ?? "",
    language: values.language ?? "",
    encoding,
    sampleRate: number("rate") ?? 0,
    speed: number("speed"),
    pitch: number("pitch"),
    volume: number("volume"),
  });
}

async function say(text: string): Promise<void> {
  const config = synthesisConfig();
  let audio: Uint8Array;
  let summary: string;
  if (values.local) {
    const settings = loadConfig();
    const stack = await createSynthesisStack({ ...settings, cacheEnabled: false }, pino({ level: "warn" }));
    try {
      await stack.loadDefaultVoice();
      const result = await stack.synthesizer.synthesize(validateRequest(text, config, settings), AbortSignal.timeout(120_000));
      audio = result.audio.bytes;
      summary = `${result.audio.durationSeconds.toFixed(2)} s at ${result.audio.sampleRate} Hz by ${result.audio.modelUsed} in ${result.generationTimeMs.toFixed(0)} ms`;
    } finally {
      await stack.close();
    }
  } else {
    const response = await client().synthesize({ text, config }, { timeoutMs: 120_000 });
    audio = response.audio;
    summary = `${response.durationSeconds.toFixed(2)} s at ${response.sampleRate} Hz by ${response.modelUsed} in ${response.generationTimeMs.toFixed(0)} ms${response.cached ? " (cached)" : ""}`;
  }
  const output = values.output ?? "speech.wav";
  await writeFile(output, audio);
  console.log(`${output}: ${summary}`);
}

async function listVoices(): Promise<void> {
  if (values.local) {
    const settings = loadConfig();
    const stack = await createSynthesisStack({ ...settings, cacheEnabled: false }, pino({ level: "warn" }));
    await stack.catalog.scan();
    // The same filter and columns as the server's ListVoices below (nothing is loaded here).
    for (const voice of stack.catalog.list().filter((v) => matchesLanguage(v.config.language, values.language ?? ""))) {
      console.log(
        `${voice.id}${voice.id === settings.piperModelName ? " (default)" : ""}\t${bcp47(voice.config.language.code)}\t${voice.config.quality}\t${voice.config.sampleRate} Hz\t${voice.config.numSpeakers} speaker(s)`,
      );
    }
    await stack.close();
    return;
  }
  const { voices, defaultVoice } = await client().listVoices({ language: values.language ?? "" });
  for (const voice of voices) {
    console.log(
      `${voice.id}${voice.id === defaultVoice ? " (default)" : ""}\t${voice.languageCode}\t${voice.quality}\t${voice.sampleRate} Hz\t${voice.numSpeakers} speaker(s)${voice.loaded ? "\tloaded" : ""}`,
    );
  }
}

function client() {
  return createTtsClient({ baseUrl: values.server!, apiKey: values["api-key"] });
}

const [command, subcommand, ...rest] = positionals;
try {
  if (values.help || !command) {
    console.log(usage);
  } else if (command === "say") {
    const text = [subcommand, ...rest].filter(Boolean).join(" ");
    if (!text) fail(`say: no text given\n${usage}`);
    await say(text);
  } else if (command === "voices" && subcommand === "list") {
    await listVoices();
  } else if (command === "voices" && subcommand === "fetch") {
    const { modelsDir, piperModelName } = loadConfig();
    for (const name of rest.length > 0 ? rest : [piperModelName]) {
      // Both files present means a complete voice (fetchVoice writes the config last): no download.
      if (basename(name) === name && isVoiceInstalled(modelsDir, name)) {
        console.log(`${name}: already installed in ${modelsDir} (delete its .onnx and .onnx.json to fetch it again)`);
      } else {
        const source = await fetchVoice(modelsDir, name, { onProgress: progressBar(), log: (m) => console.error(m) });
        console.log(`${name}: installed in ${modelsDir} (from ${source})`);
      }
    }
  } else if (command === "health") {
    const health = await client().health({}, { timeoutMs: 5000 });
    console.log(toJsonString(HealthResponseSchema, health, { prettySpaces: 2 }));
  } else {
    fail(usage);
  }
} catch (error) {
  console.error(`aetheros-tts: ${(error as Error).message}`);
  process.exitCode = 1;
}
