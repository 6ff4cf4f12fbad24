/**
 * aetheros-tts: the service from the shell (`aetheros-tts --help` for every command and flag).
 * Without --local it talks to a running server (default http://127.0.0.1:8002, gRPC);
 * --local runs the engine in this process with the same configuration variables as the server.
 * Exit codes: 0 done, 1 the call or the work failed, 2 the command line is wrong.
 */
import { readFile, writeFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { text as readAll } from "node:stream/consumers";
import { parseArgs } from "node:util";
import { create, toJsonString } from "@bufbuild/protobuf";
import { pino } from "pino";
import packageJson from "../../package.json" with { type: "json" };
import { createTtsClient } from "../../clients/node/src/index.js";
import {
  type AudioEncoding,
  HealthResponseSchema,
  Normalization,
  type SynthesisConfig,
  SynthesisConfigSchema,
} from "../../gen/aetheros/tts/v1/tts_pb.js";
import { encodingName, encodingNamed, extensionOf, OUTPUT_ENCODINGS } from "../audio/index.js";
import { loadConfig } from "../config/index.js";
import { createSynthesisStack, validateRequest } from "../synthesis/index.js";
import { bcp47, fetchVoice, isVoiceInstalled, matchesLanguage, progressBar, VoiceCatalog } from "../voices/index.js";

// The names --format and -o's extension take: each encoding's name and extension, and "ogg".
const FORMAT_NAMES = [...new Set(OUTPUT_ENCODINGS.flatMap((e) => [encodingName(e), extensionOf(e)])), "ogg"].join(", ");

const OPTIONS = {
  output: { type: "string", short: "o" },
  voice: { type: "string" },
  speaker: { type: "string" },
  language: { type: "string" },
  format: { type: "string", short: "f" },
  rate: { type: "string" },
  speed: { type: "string" },
  pitch: { type: "string" },
  volume: { type: "string" },
  "peak-normalize": { type: "boolean", default: false },
  ssml: { type: "string" },
  server: { type: "string", default: "http://127.0.0.1:8002" },
  "api-key": { type: "string" },
  local: { type: "boolean", default: false },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

const usage = `usage:
  aetheros-tts say TEXT|- -o FILE|- [flags]     synthesize TEXT (- reads it from stdin) into FILE (- writes stdout)
  aetheros-tts say --ssml DOC|- -o FILE|-       synthesize the SSML document in file DOC (- reads it from stdin)
  aetheros-tts voices list [--language TAG]     the voices installed, the default marked
  aetheros-tts voices fetch [NAME ...]          download voices into MODELS_DIR (default: PIPER_MODEL_NAME);
                                                one already there is left as it is
  aetheros-tts health                           the server's health, as JSON
  aetheros-tts --version | --help

say:
  -o, --output FILE   where the audio goes (required); - for stdout
  -f, --format NAME   ${FORMAT_NAMES}; default: FILE's extension
  --voice ID          voice id (default: the server's PIPER_MODEL_NAME)
  --speaker NAME      speaker of a multi-speaker voice (default: its first)
  --language TAG      BCP 47 tag the voice must speak (say), or to filter by (voices list)
  --rate HZ           sample rate: 8000, 16000, 22050, 24000, 44100 or 48000 (default: the voice's)
  --speed X           0.5 to 2.0 (default 1)
  --pitch X           0.5 to 2.0 (default 1)
  --volume X          0 to 4 (default 1)
  --peak-normalize    scale each sentence to a full-scale peak, as Piper does (default: the model's own level)
  --ssml DOC          speak the SSML document in file DOC (- reads stdin) instead of TEXT

where:
  --server URL        a running server (default http://127.0.0.1:8002), over gRPC
  --api-key KEY       sent as authorization: Bearer KEY (when the server has API_KEYS)
  --local             no server: the engine runs in this process, configured like the server
                      (MODELS_DIR, PIPER_MODEL_NAME, ...)`;

function fail(message: string): never {
  console.error(`aetheros-tts: ${message}`);
  process.exit(2);
}

function parseCommandLine() {
  try {
    return parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (error) {
    // Unknown flags, a flag without its value: node:util's message names the flag.
    fail(`${(error as Error).message}\n${usage}`);
  }
}

const { values, positionals } = parseCommandLine();

function number(name: "speed" | "pitch" | "volume" | "rate"): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) fail(`--${name}: ${JSON.stringify(raw)} is not a number`);
  return value;
}

/** The encoding --format names, else the one -o's extension names. */
function encodingOf(output: string): AudioEncoding {
  const known = FORMAT_NAMES;
  if (values.format !== undefined) {
    const encoding = encodingNamed(values.format);
    if (encoding === undefined) fail(`--format: ${JSON.stringify(values.format)} is not one of ${known}`);
    return encoding;
  }
  const extension = extname(output).slice(1);
  if (output === "-" || extension === "") {
    fail(
      `-o ${output}: ${output === "-" ? "stdout has" : "the file name has"} no extension to take the format from; pass --format (${known})`,
    );
  }
  const encoding = encodingNamed(extension);
  if (encoding === undefined)
    fail(`-o ${output}: the extension .${extension} is not a format (${known}); rename the file or pass --format`);
  return encoding;
}

function synthesisConfig(output: string): SynthesisConfig {
  const encoding = encodingOf(output);
  return create(SynthesisConfigSchema, {
    voice: values.voice ?? "",
    speaker: values.speaker ?? "",
    language: values.language ?? "",
    encoding,
    sampleRate: number("rate") ?? 0,
    speed: number("speed"),
    pitch: number("pitch"),
    volume: number("volume"),
    normalization: values["peak-normalize"] ? Normalization.SENTENCE_PEAK : Normalization.UNSPECIFIED,
  });
}

/** Speaks `text`, or the SSML document `ssml` when that is set. */
async function say(text: string, ssml: string, output: string): Promise<void> {
  const config = synthesisConfig(output);
  let audio: Uint8Array;
  let summary: string;
  if (values.local) {
    const settings = loadConfig();
    const stack = await createSynthesisStack({ ...settings, cacheEnabled: false }, pino({ level: "warn" }));
    try {
      await stack.loadDefaultVoice();
      const result = await stack.synthesizer.synthesize(validateRequest(text, config, settings, ssml), AbortSignal.timeout(120_000), "cli");
      audio = result.audio.bytes;
      summary = `${result.audio.durationSeconds.toFixed(2)} s at ${result.audio.sampleRate} Hz by ${result.audio.modelUsed} in ${result.generationTimeMs.toFixed(0)} ms`;
    } finally {
      await stack.close();
    }
  } else {
    const response = await client().synthesize({ text, ssml, config }, { timeoutMs: 120_000 });
    audio = response.audio;
    summary = `${response.durationSeconds.toFixed(2)} s at ${response.sampleRate} Hz by ${response.modelUsed} in ${response.generationTimeMs.toFixed(0)} ms${response.cached ? " (cached)" : ""}`;
  }
  if (output === "-") {
    // The audio is stdout's; the summary goes to stderr.
    await new Promise<void>((resolve, reject) => process.stdout.write(audio, (error) => (error ? reject(error) : resolve())));
    console.error(`stdout: ${summary}`);
  } else {
    await writeFile(output, audio);
    console.log(`${output}: ${summary}`);
  }
}

/** `voices list --language` matched nothing: exit 1 with what there is. */
function noVoiceFor(language: string, installed: string[]): Error {
  return new Error(`no voice for ${language}; installed: ${installed.join(", ") || "none"}`);
}

async function listVoices(): Promise<void> {
  if (values.local) {
    const settings = loadConfig();
    // The voice files alone: nothing is loaded, no inference worker starts.
    const catalog = new VoiceCatalog(settings.modelsDir, pino({ level: "warn" }));
    await catalog.scan();
    // The same filter and columns as the server's ListVoices below.
    const all = catalog.list();
    const matching = all.filter((v) => matchesLanguage(v.config.language, values.language ?? ""));
    if (matching.length === 0 && values.language) {
      throw noVoiceFor(
        values.language,
        all.map((v) => `${v.id} (${bcp47(v.config.language.code)})`),
      );
    }
    for (const voice of matching) {
      console.log(
        `${voice.id}${voice.id === settings.piperModelName ? " (default)" : ""}\t${bcp47(voice.config.language.code)}\t${voice.config.quality}\t${voice.config.sampleRate} Hz\t${voice.config.numSpeakers} speaker(s)`,
      );
    }
    return;
  }
  const { voices, defaultVoice } = await client().listVoices({ language: values.language ?? "" });
  if (voices.length === 0 && values.language) {
    const { voices: all } = await client().listVoices({ language: "" });
    throw noVoiceFor(
      values.language,
      all.map((v) => `${v.id} (${v.languageCode})`),
    );
  }
  for (const voice of voices) {
    console.log(
      `${voice.id}${voice.id === defaultVoice ? " (default)" : ""}\t${voice.languageCode}\t${voice.quality}\t${voice.sampleRate} Hz\t${voice.numSpeakers} speaker(s)${voice.loaded ? "\tloaded" : ""}`,
    );
  }
}

function client() {
  return createTtsClient({ baseUrl: values.server!, apiKey: values["api-key"] });
}

/** The text to say: the words given, or stdin for `-`. */
async function textToSay(words: string[]): Promise<string> {
  if (words.length === 1 && words[0] === "-") return (await readAll(process.stdin)).trim();
  return words.filter(Boolean).join(" ");
}

const [command, subcommand, ...rest] = positionals;
try {
  if (values.version) {
    console.log(`aetheros-tts ${packageJson.version}`);
  } else if (values.help) {
    console.log(usage);
  } else if (!command) {
    fail(`no command given\n${usage}`);
  } else if (command === "say") {
    const words = [subcommand, ...rest].filter((word): word is string => word !== undefined);
    if (values.output === undefined) fail("say: -o FILE is required (-o - writes the audio to stdout)");
    const output = values.output;
    // Checked before stdin is read or any call made.
    encodingOf(output);
    if (values.ssml !== undefined) {
      if (words.length > 0) fail(`say: give TEXT or --ssml, not both\n${usage}`);
      const ssml = values.ssml === "-" ? await readAll(process.stdin) : await readFile(values.ssml, "utf8");
      if (!ssml.trim()) fail(`say: the SSML document ${values.ssml === "-" ? "on stdin" : values.ssml} is empty`);
      await say("", ssml, output);
    } else {
      const text = await textToSay(words);
      if (!text) fail(`say: no text given${words[0] === "-" ? " (stdin was empty)" : ""}\n${usage}`);
      await say(text, "", output);
    }
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
    fail(`unknown command: ${positionals.join(" ")}\n${usage}`);
  }
} catch (error) {
  console.error(`aetheros-tts: ${(error as Error).message}`);
  process.exitCode = 1;
}
