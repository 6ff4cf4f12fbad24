/*
 * Focused benchmark: one caller's inference time for the engine's voice sessions, in this
 * process, on the latency texts and one long sentence. Subjects, run interleaved (A/B/A/B,
 * order reversed every round) so that other load on the machine falls on all of them:
 * the whole model (the floor), the split voice as shipped (DECODE_WINDOWS) and the split
 * voice with the former small first window (32 frames), at 1 and 2 intra-op threads.
 * Reports medians, their ratio to the whole model, min-max (how noisy it was) and CPU time.
 *
 *   node --import tsx bench/engine-latency.ts [rounds=7]
 */
import pino from "pino";
import { planSpeech } from "../src/engine/index.js";
import { DECODE_WINDOWS, type InferenceOptions, VoiceSession } from "../src/engine/inference.js";
import { prepareVoice } from "../src/engine/voice-graph.js";
import { VoiceCatalog } from "../src/voices/index.js";
import { LATENCY_TEXTS, LONG_SENTENCE } from "./lib/texts.js";

const rounds = Number(process.argv[2] ?? 7);
const voice = await new VoiceCatalog("models", pino({ level: "silent" })).voice("en_US-joe-medium");
const { graph } = await prepareVoice(voice.modelFile, voice.modelHash, voice.config, { intraOpThreads: 1 });
if (graph.kind !== "split") throw new Error("the default voice does not run split");
const scales = {
  noiseScale: voice.config.noiseScale,
  lengthScale: voice.config.lengthScale,
  noiseW: voice.config.noiseW,
  durationScale: 1,
};
const texts: Array<[string, string]> = [
  ...LATENCY_TEXTS.map(([chars, text]): [string, string] => [`${chars} chars`, text]),
  ["long", LONG_SENTENCE],
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const intraOpThreads of [1, 2]) {
  const subjects: Record<string, (options: InferenceOptions) => Promise<VoiceSession>> = {
    "whole model": (options) => VoiceSession.load({ kind: "whole", modelFile: voice.modelFile }, voice.config, options),
    "split, shipped": (options) => VoiceSession.load(graph, voice.config, options),
    "split, first window 32": (options) =>
      VoiceSession.load(graph, voice.config, { ...options, windows: { ...DECODE_WINDOWS, first: 32 } }),
  };
  const sessions = new Map<string, VoiceSession>();
  for (const [name, load] of Object.entries(subjects)) sessions.set(name, await load({ intraOpThreads }));
  const times = new Map<string, { wall: number[]; cpu: number[] }>();
  // Round 0 warms every session on every text and is not counted.
  for (let round = 0; round <= rounds; round++) {
    for (const [label, text] of texts) {
      const plan = planSpeech(text, voice.config);
      const order = [...sessions.keys()];
      if (round % 2) order.reverse();
      for (const name of order) {
        const cpu = process.cpuUsage();
        const started = performance.now();
        for (const sentence of plan.sentences) for await (const _ of sessions.get(name)!.speak(sentence.ids, scales, 0));
        const wall = performance.now() - started;
        const used = process.cpuUsage(cpu);
        if (round === 0) continue;
        const key = `${label}|${name}`;
        if (!times.has(key)) times.set(key, { wall: [], cpu: [] });
        times.get(key)!.wall.push(wall);
        times.get(key)!.cpu.push((used.user + used.system) / 1000);
      }
    }
  }
  console.log(`\nintra-op threads ${intraOpThreads}, ${rounds} rounds\n`);
  console.log("| text | subject | median ms | × whole | min-max ms | CPU ms |\n| --- | --- | ---: | ---: | ---: | ---: |");
  for (const [label] of texts) {
    const floor = median(times.get(`${label}|whole model`)!.wall);
    for (const name of sessions.keys()) {
      const { wall, cpu } = times.get(`${label}|${name}`)!;
      const range = `${Math.min(...wall).toFixed(0)}-${Math.max(...wall).toFixed(0)}`;
      console.log(
        `| ${label} | ${name} | ${median(wall).toFixed(0)} | ${(median(wall) / floor).toFixed(2)}x | ${range} | ${median(cpu).toFixed(0)} |`,
      );
    }
  }
  await Promise.all([...sessions.values()].map((session) => session.release()));
}
