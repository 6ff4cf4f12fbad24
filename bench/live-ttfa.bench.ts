/*
 * The live time-to-first-audio section of bench/run.ts on its own: StreamingSynthesize fed
 * token by token against SynthesizeStream of each sentence alone, interleaved, on a
 * child-process service with the shipped defaults (intra 1, 2 workers; cache off). Not a
 * test; run with
 *   node --import tsx bench/live-ttfa.bench.ts        (BENCH_ITERATIONS runs, default 5)
 * It prints the figures; the full `npm run bench` puts them in BENCHMARKS.md.
 */
import { fileURLToPath } from "node:url";
import { LIVE_TTFA_GOAL, LIVE_REPLIES, measureLiveTtfa, summarizeLiveTtfa } from "./lib/live-ttfa.js";
import { TOKEN_GAP_MS, sleep } from "./lib/live-input.js";
import { startService } from "./lib/service.js";
import { seededRandom, shuffled } from "./lib/stats.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = Number(process.env.BENCH_ITERATIONS ?? 5);
const random = seededRandom(Number(process.env.BENCH_SEED ?? 8));

const service = await startService("default (intra 1, 2 workers)", ROOT, { intraOpThreads: 1, workers: 2, cacheEnabled: false });
try {
  const samples = await measureLiveTtfa(
    service.client,
    RUNS,
    (items) => shuffled(items, random),
    () => sleep(100),
  );
  for (const s of summarizeLiveTtfa(samples)) {
    console.log(
      `${s.case}: last token to first audio ${s.liveMs.toFixed(0)} ms vs SynthesizeStream first audio ${s.unaryMs.toFixed(0)} ms = ${s.ratio.toFixed(2)}x ` +
        `(goal ≤ ${LIVE_TTFA_GOAL}x: ${s.ratio <= LIVE_TTFA_GOAL ? "met" : "missed"}; medians of ${s.n} sentences over ${RUNS} runs of ${LIVE_REPLIES.length} replies, tokens ${TOKEN_GAP_MS} ms apart; ` +
        (s.behindPrevious > 0
          ? `${s.behindPrevious} of them waited on the previous sentence's audio, median ${s.behindPreviousMs.toFixed(0)} ms after their last token)`
          : "none waited on the previous sentence's audio)"),
    );
  }
} finally {
  await service.stop();
}
