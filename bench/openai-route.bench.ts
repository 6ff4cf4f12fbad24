/*
 * The OpenAI route's section of bench/run.ts on its own: time to first byte against the
 * whole reply for ~30 s of speech, on a child-process service with the latency settings
 * of the full run (intra 2, 1 worker, cache off). Not a test; run with
 *   node --import tsx bench/openai-route.bench.ts        (BENCH_ITERATIONS runs, default 5)
 * It prints the figures; the full `npm run bench` puts them in BENCHMARKS.md.
 */
import { fileURLToPath } from "node:url";
import { OPENAI_ROUTE_CHARS, OPENAI_ROUTE_GOAL, openAiRouteText, summarizeOpenAiRoute, timeOpenAiRoute } from "./lib/openai-route.js";
import type { OpenAiRouteSample } from "./lib/openai-route.js";
import { startService } from "./lib/service.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = Number(process.env.BENCH_ITERATIONS ?? 5);

const service = await startService("latency (intra 2, 1 worker)", ROOT, { intraOpThreads: 2, workers: 1, cacheEnabled: false });
try {
  const text = openAiRouteText();
  const samples: OpenAiRouteSample[] = [];
  for (let iteration = -1; iteration < RUNS; iteration++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sample = await timeOpenAiRoute(service.baseUrl, text);
    if (iteration >= 0) samples.push({ iteration, ...sample });
    console.error(
      `${iteration < 0 ? "warm-up" : `run ${iteration + 1}/${RUNS}`}: headers ${sample.headersMs.toFixed(0)} ms, first byte ${sample.firstByteMs.toFixed(0)} ms, total ${sample.totalMs.toFixed(0)} ms, ${sample.audioSeconds.toFixed(1)} s of audio`,
    );
  }
  const s = summarizeOpenAiRoute(samples);
  console.log(
    `OpenAI route, ${text.length} characters (OPENAI_ROUTE_CHARS ${OPENAI_ROUTE_CHARS}), pcm, ${s.audioSeconds.toFixed(1)} s of audio, medians of ${RUNS}: ` +
      `headers ${s.headersMs.toFixed(0)} ms, first byte ${s.firstByteMs.toFixed(0)} ms, total ${s.totalMs.toFixed(0)} ms, ` +
      `first byte / total ${s.ratio.toFixed(2)}x (goal < ${OPENAI_ROUTE_GOAL}x: ${s.ratio < OPENAI_ROUTE_GOAL ? "met" : "missed"})`,
  );
} finally {
  await service.stop();
}
