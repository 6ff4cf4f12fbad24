/*
 * Focused benchmark: resident memory of an Engine with the shipped defaults (2 inference
 * workers, intra 1), each run in a child process of its own: as it starts serving, after 8
 * syntheses of the 200-character text (2 at a time) and after one sentence of MAX_TEXT_LENGTH
 * characters. "cold" gives it a fresh MODELS_DIR (the voice is split and self-checked first,
 * as on a first start and in `npm run bench`'s memory section), "warm" the repository's
 * models/ with the parts cached. Readings: VmRSS, VmHWM, and smaps_rollup's Anonymous.
 *
 *   node --import tsx bench/engine-memory.ts [rounds=2]
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pino from "pino";
import { loadConfig } from "../src/config/index.js";
import { Engine, planSpeech } from "../src/engine/index.js";
import { VoiceCatalog } from "../src/voices/index.js";
import { LATENCY_TEXTS, oneSentence } from "./lib/texts.js";

const VOICE = "en_US-joe-medium";
const MODELS_DIR = resolve("models");

type Reading = { rss: number; hwm: number; anonymous: number };

function memory(): Reading {
  const mib = (text: string, key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1]) / 1024;
  const status = readFileSync("/proc/self/status", "utf8");
  return {
    rss: mib(status, "VmRSS"),
    hwm: mib(status, "VmHWM"),
    anonymous: mib(readFileSync("/proc/self/smaps_rollup", "utf8"), "Anonymous"),
  };
}

async function measure(cold: boolean): Promise<Record<string, Reading>> {
  const dir = cold ? await mkdtemp(join(tmpdir(), "tts-engine-memory-")) : MODELS_DIR;
  if (cold) for (const file of [`${VOICE}.onnx`, `${VOICE}.onnx.json`]) await copyFile(join(MODELS_DIR, file), join(dir, file));
  const defaults = loadConfig({});
  const logger = pino({ level: "silent" });
  const engine = new Engine({
    threads: defaults.maxConcurrentRequests,
    intraOpThreads: defaults.onnxIntraOpThreads,
    maxLoadedVoices: 1,
    logger,
  });
  const readings: Record<string, Reading> = { started: memory() };
  try {
    const files = await new VoiceCatalog(dir, logger).voice(VOICE);
    const model = engine.model(files);
    await engine.load(files);
    readings.serving = memory();
    const speak = async (text: string): Promise<void> => {
      const settings = { scales: { noiseScale: 0.667, lengthScale: 1, noiseW: 0.8, durationScale: 1 }, speakerId: 0 };
      for await (const _ of engine.synthesize(model, planSpeech(text, files.config), settings, new AbortController().signal));
    };
    for (let i = 0; i < 4; i++) await Promise.all([speak(LATENCY_TEXTS.at(-1)![1]), speak(LATENCY_TEXTS.at(-1)![1])]);
    readings["after 8 × 200 chars"] = memory();
    await speak(oneSentence(defaults.maxTextLength));
    readings[`after one ${defaults.maxTextLength}-char sentence`] = memory();
  } finally {
    await engine.close();
    if (cold) await rm(dir, { recursive: true, force: true });
  }
  return readings;
}

if (process.argv[2] === "child") {
  console.log(JSON.stringify(await measure(process.argv[3] === "cold")));
} else {
  const rounds = Number(process.argv[2] ?? 2);
  console.log("| MODELS_DIR | state | RSS MiB | peak MiB | anonymous MiB |\n| --- | --- | ---: | ---: | ---: |");
  for (let round = 0; round < rounds; round++) {
    for (const mode of ["cold", "warm"]) {
      const output = await new Promise<string>((done, fail) => {
        const child = spawn(process.execPath, ["--import", "tsx", "bench/engine-memory.ts", "child", mode], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let text = "";
        child.stdout.on("data", (chunk) => (text += chunk));
        child.on("close", (code) => (code === 0 ? done(text) : fail(new Error(`${mode} run exited with code ${code}`))));
      });
      for (const [state, r] of Object.entries(JSON.parse(output) as Record<string, Reading>))
        console.log(`| ${mode} | ${state} | ${r.rss.toFixed(0)} | ${r.hwm.toFixed(0)} | ${r.anonymous.toFixed(0)} |`);
    }
  }
}
