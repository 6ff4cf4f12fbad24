/*
 * The live cancel section of bench/run.ts on its own: cancel an utterance of long sentences
 * 0-320 ms after its first chunk, and time until the in-process server's admission shows no
 * synthesis running. Not a test; run with
 *   node --import tsx bench/live-cancel.bench.ts        (BENCH_ITERATIONS runs, default 10)
 * It prints the figures; the full `npm run bench` puts them in BENCHMARKS.md.
 */
import { LIVE_CANCEL_GOAL_MS, measureLiveCancel, startInProcessServer, summarizeLiveCancel } from "./lib/live-cancel.js";
import { sleep } from "./lib/live-input.js";

const RUNS = Number(process.env.BENCH_ITERATIONS ?? 10);

const server = await startInProcessServer();
try {
  const samples = await measureLiveCancel(server, RUNS, () => sleep(100));
  for (const s of samples)
    console.error(
      `run ${s.iteration + 1}, cancel ${s.delayMs} ms after the first chunk: slot free ${s.slotFreeMs.toFixed(1)} ms, UtteranceEnd ${s.acknowledgedMs.toFixed(1)} ms, running at cancel ${s.runningAtCancel}, chunks of later sentences ${s.laterSentenceChunks}`,
    );
  const s = summarizeLiveCancel(samples);
  console.log(
    `cancel to slot free: median ${s.slotFreeMs.toFixed(1)} ms (max ${s.maxSlotFreeMs.toFixed(1)} ms), cancel to UtteranceEnd ${s.acknowledgedMs.toFixed(1)} ms, ` +
      `${s.n} runs (${s.withoutRunning} with nothing running at the cancel); goal < ${LIVE_CANCEL_GOAL_MS} ms: ${s.slotFreeMs < LIVE_CANCEL_GOAL_MS ? "met" : "missed"} (${server.settings})`,
  );
} finally {
  await server.app.close();
}
