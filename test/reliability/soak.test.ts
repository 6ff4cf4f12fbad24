// 10,000 mixed calls (mostly cached short phrases, some uncached) with bounded concurrency
// against the entry point as a child process; its resident memory (VmRSS) after warm-up and
// at the end must differ by less than 10 %.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { ms, percentile, record, REPO_ROOT, table } from "./report.js";
import { countBy, formatCounts, outcomeOf, rssMiB, runPool, startService, type Outcome, type Service } from "./support.js";

const CALLS = 10_000;
// RSS at call 1,000 against the end. It once grew in steps of 50-70 MB (up to 20 %) from
// onnxruntime's memory-pattern blocks fragmenting its arena; see src/engine/inference.ts.
const WARM_UP = 1_000;
const CONCURRENCY = 8;
const UNCACHED_EVERY = 50; // 2 % uncached
const PHRASES = Array.from({ length: 25 }, (_, i) => `Soak phrase number ${i + 1}, short and cached.`);
// Synthesized every time (use_cache=false). A fixed set, so the workload is the same at the end
// as in the warm-up: texts made from the call's number got longer as the run went on ("nine
// thousand nine hundred fifty"), and onnxruntime's arena grew with them, which is no leak.
const FRESH = [
  "Soak fresh sentence, the first of ten.",
  "A second uncached sentence, slightly longer than the first one.",
  "Third.",
  "The fourth one asks a question, does it?",
  "Number five is spoken with a little more text than number four, to vary the length.",
  "Six.",
  "The seventh sentence keeps it short and plain.",
  "Eighth in line, and still never read from the cache.",
  "Nine: a colon, a comma, and a full stop.",
  "The tenth and last of the uncached sentences closes the set.",
];

let service: Service;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "tts-soak-"));
  service = await startService({ MAX_CONCURRENT_REQUESTS: "2", CACHE_DIR: join(work, "cache"), MODELS_DIR: join(REPO_ROOT, "models") });
});

afterAll(async () => {
  await service?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("soak", () => {
  it(`${CALLS.toLocaleString("en-US")} mixed calls: all OK, RSS growth after warm-up < 10 %`, async () => {
    const client = createClient(TtsService, createGrpcTransport({ baseUrl: service.baseUrl }));
    const pid = service.entry.child.pid!;
    // Warm-up, part one: every uncached sentence on both inference workers (two at once land
    // on distinct workers), so each worker's onnxruntime arena has met every input size.
    for (const text of FRESH) {
      await Promise.all(
        [0, 1].map(() => client.synthesize({ text, config: { encoding: AudioEncoding.PCM, useCache: false } }, { timeoutMs: 60_000 })),
      );
    }
    const outcomes: { outcome: Outcome; ms: number; cached: boolean }[] = [];
    const samples: { calls: number; rss: number }[] = [{ calls: 0, rss: rssMiB(pid) }];
    let warmRss = Number.NaN;
    let done = 0;
    await runPool(CALLS, CONCURRENCY, async (i) => {
      const uncached = i % UNCACHED_EVERY === 0;
      const text = uncached ? FRESH[(i / UNCACHED_EVERY) % FRESH.length]! : PHRASES[i % PHRASES.length]!;
      const encoding = [AudioEncoding.PCM, AudioEncoding.WAV, AudioEncoding.MP3][i % 3]!;
      const result = await outcomeOf(() => client.synthesize({ text, config: { encoding, useCache: !uncached } }, { timeoutMs: 60_000 }));
      outcomes.push({ outcome: result.outcome, ms: result.ms, cached: !uncached });
      done++;
      if (done === WARM_UP) warmRss = rssMiB(pid);
      if (done % 1000 === 0) samples.push({ calls: done, rss: rssMiB(pid) });
    });
    const endRss = rssMiB(pid);
    const growth = (endRss - warmRss) / warmRss;
    const bad = outcomes.filter((o) => o.outcome !== "Ok");
    const cachedMs = outcomes.filter((o) => o.cached).map((o) => o.ms);
    const freshMs = outcomes.filter((o) => !o.cached).map((o) => o.ms);

    record("4-soak", {
      order: 4,
      title: "Soak",
      passed: bad.length === 0 && growth < 0.1,
      body: [
        `${CALLS.toLocaleString("en-US")} Synthesize calls over gRPC at concurrency ${CONCURRENCY} against the entry point as a child process`,
        `(MAX_CONCURRENT_REQUESTS=2, cache on): ${PHRASES.length} cached phrases in PCM, WAV and MP3, and every ${UNCACHED_EVERY}th call`,
        `one of ${FRESH.length} fixed sentences with use_cache=false (synthesized every time). RSS is the child's VmRSS; the check is`,
        `growth from warm-up (each of those sentences once on each worker, then the first ${WARM_UP.toLocaleString("en-US")} calls) to the end < 10 %.`,
        "",
        table(
          ["Figure", "Value"],
          [
            ["Outcomes", formatCounts(countBy(outcomes.map((o) => o.outcome)))],
            ["Cached p50 / p99", `${ms(percentile(cachedMs, 0.5))} / ${ms(percentile(cachedMs, 0.99))}`],
            ["Uncached p50 / p99", `${ms(percentile(freshMs, 0.5))} / ${ms(percentile(freshMs, 0.99))}`],
            [`RSS after warm-up (${WARM_UP} calls)`, `${warmRss.toFixed(1)} MiB`],
            ["RSS at the end", `${endRss.toFixed(1)} MiB`],
            ["Growth", `${(growth * 100).toFixed(1)} %`],
            ["RSS every 1,000 calls (MiB)", samples.map((s) => s.rss.toFixed(0)).join(", ")],
          ],
        ),
      ].join("\n"),
      callsMade: outcomes.length,
      callsLost: outcomes.filter((o) => o.outcome === "lost").length,
    });

    expect(outcomes.length).toBe(CALLS);
    expect(formatCounts(countBy(bad.map((o) => o.outcome)))).toBe("");
    expect(growth).toBeLessThan(0.1);
  });
});
