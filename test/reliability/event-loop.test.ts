// The event loop under full synthesis load: the entry point as a child process with both
// inference workers kept busy by long uncached streams, while grpc.health.v1 Check and
// ListVoices are called one after another; and under a flood of long texts whose 1 ms
// deadlines pass before any audio (they must cost the event loop nothing: phonemizing
// happens after admission, in the workers). Every probe must succeed; their latency is
// reported (the goal is p99 under 50 ms), not asserted, since this machine is shared.

import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { proseOfLength } from "../server/support.js";
import { ms, percentile, record, REPO_ROOT, table } from "./report.js";
import { countBy, formatCounts, outcomeOf, startService, type Outcome, type Service } from "./support.js";

const PROBES = 300;
const PROBE_GAP_MS = 20;
const STREAMS = 4;
// Each flooding caller sends its next call this long after the last one ended (at most ~200 calls/s each).
const FLOOD_GAP_MS = 5;

let service: Service;

beforeAll(async () => {
  service = await startService({ MAX_CONCURRENT_REQUESTS: "2", CACHE_ENABLED: "false", MODELS_DIR: join(REPO_ROOT, "models") });
});

afterAll(async () => {
  await service?.stop();
});

/** The server's event-loop delay since the previous scrape, in ms. */
async function serverLoopDelay(): Promise<{ p50: number; p99: number; max: number }> {
  const text = await (await fetch(`${service.baseUrl}/metrics`)).text();
  const seconds = (name: string) => Number(new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  return { p50: seconds("p50") * 1000, p99: seconds("p99") * 1000, max: seconds("max") * 1000 };
}

describe("event loop", () => {
  it(`${PROBES} health checks and ${PROBES} voice lists while ${STREAMS} long streams keep both workers busy`, async () => {
    const transport = createGrpcTransport({ baseUrl: service.baseUrl });
    const tts = createClient(TtsService, transport);
    const health = createClient(Health, transport);

    let probing = true;
    let streamsDone = 0;
    let audioBytes = 0;
    const streamOutcomes: Outcome[] = [];
    const load = Array.from({ length: STREAMS }, async () => {
      while (probing) {
        const result = await outcomeOf(async () => {
          const stream = tts.synthesizeStream(
            { text: proseOfLength(1000), config: { encoding: AudioEncoding.PCM, useCache: false } },
            { timeoutMs: 300_000 },
          );
          for await (const message of stream) if (message.event.case === "chunk") audioBytes += message.event.value.audio.length;
        });
        streamOutcomes.push(result.outcome);
        streamsDone++;
      }
    });
    // Let the first sentences reach the workers before probing.
    while (audioBytes === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    // prom-client's event-loop delay figures restart at every scrape: this one opens the window.
    await serverLoopDelay();

    const checks: { outcome: Outcome; ms: number }[] = [];
    const lists: { outcome: Outcome; ms: number }[] = [];
    let notServing = 0;
    for (let i = 0; i < PROBES; i++) {
      checks.push(
        await outcomeOf(async () => {
          const { status } = await health.check({ service: "" }, { timeoutMs: 10_000 });
          if (status !== HealthCheckResponse_ServingStatus.SERVING) notServing++;
        }),
      );
      lists.push(await outcomeOf(() => tts.listVoices({}, { timeoutMs: 10_000 })));
      await new Promise((resolve) => setTimeout(resolve, PROBE_GAP_MS));
    }
    const loopDelay = await serverLoopDelay();
    probing = false;
    await Promise.all(load);

    const row = (name: string, probes: { outcome: Outcome; ms: number }[]) => {
      const times = probes.map((probe) => probe.ms);
      return [
        name,
        formatCounts(countBy(probes.map((probe) => probe.outcome))),
        ms(percentile(times, 0.5)),
        ms(percentile(times, 0.95)),
        ms(percentile(times, 0.99)),
        ms(Math.max(...times)),
      ];
    };
    const p99 = Math.max(
      percentile(
        checks.map((c) => c.ms),
        0.99,
      ),
      percentile(
        lists.map((l) => l.ms),
        0.99,
      ),
    );
    const allOk =
      [...checks, ...lists].every((probe) => probe.outcome === "Ok") && notServing === 0 && streamOutcomes.every((o) => o === "Ok");
    record("6-event-loop", {
      order: 6,
      title: "Event loop under synthesis load",
      passed: allOk,
      body: [
        `The entry point as a child process, MAX_CONCURRENT_REQUESTS=2 (two inference workers), cache off; ${STREAMS} callers`,
        "each stream a new 1,000-character paragraph (PCM) again and again, so both workers and the queue stay busy, while",
        `one client calls grpc.health.v1 Check and then ListVoices, ${PROBES} times each, ${PROBE_GAP_MS} ms apart, over gRPC.`,
        "",
        table(["Probe", "Outcomes", "p50", "p95", "p99", "max"], [row("grpc.health.v1 Check", checks), row("ListVoices", lists)]),
        "",
        `Streams completed meanwhile: ${streamsDone} (${formatCounts(countBy(streamOutcomes))}), ${(audioBytes / 2 / 22050).toFixed(0)} s of audio.`,
        `Goal p99 < 50 ms: ${p99 < 50 ? "met" : "**missed**"} (worst p99 ${ms(p99)}).`,
        `The server's own event-loop delay over the probing (perf_hooks through prom-client, from its /metrics; each figure includes`,
        `its 10 ms sampling interval): p50 ${ms(loopDelay.p50)}, p99 ${ms(loopDelay.p99)}, max ${ms(loopDelay.max)}. Beyond that the probes wait for CPU:`,
        "both cores run inference, and this client runs on the same machine.",
      ].join("\n"),
      callsMade: checks.length + lists.length + streamOutcomes.length,
      callsLost:
        [...checks, ...lists].filter((probe) => probe.outcome === "lost").length + streamOutcomes.filter((o) => o === "lost").length,
    });

    expect(formatCounts(countBy([...checks, ...lists].map((probe) => probe.outcome)))).toBe(`Ok ${(PROBES * 2).toLocaleString("en-US")}`);
    expect(notServing).toBe(0);
    expect(streamsDone).toBeGreaterThanOrEqual(STREAMS);
    expect(streamOutcomes.filter((o) => o !== "Ok")).toEqual([]);
  });

  // How a flood call may end: its own deadline; or, since its client resets every call before an answer (as a
  // rapid-reset flood does), the server dropping its connection: Canceled, or no status at all.
  const FLOOD_ENDINGS = new Set<Outcome>(["DeadlineExceeded", "Canceled", "lost"]);

  it(`${PROBES} health checks while ${STREAMS} clients send 5,000-character uncached texts with 1 ms deadlines`, async () => {
    // Each caller on a connection of its own, as separate services (and a kubelet's probe) would be.
    const health = createClient(Health, createGrpcTransport({ baseUrl: service.baseUrl }));
    const text = proseOfLength(5000);

    let probing = true;
    const floodOutcomes: Outcome[] = [];
    const flood = Array.from({ length: STREAMS }, async () => {
      const tts = createClient(TtsService, createGrpcTransport({ baseUrl: service.baseUrl }));
      while (probing) {
        const result = await outcomeOf(() =>
          tts.synthesize({ text, config: { encoding: AudioEncoding.PCM, useCache: false } }, { timeoutMs: 1 }),
        );
        floodOutcomes.push(result.outcome);
        await new Promise((resolve) => setTimeout(resolve, FLOOD_GAP_MS));
      }
    });
    while (floodOutcomes.length < STREAMS) await new Promise((resolve) => setTimeout(resolve, 10));
    await serverLoopDelay();

    const checks: { outcome: Outcome; ms: number }[] = [];
    let notServing = 0;
    for (let i = 0; i < PROBES; i++) {
      checks.push(
        await outcomeOf(async () => {
          const { status } = await health.check({ service: "" }, { timeoutMs: 10_000 });
          if (status !== HealthCheckResponse_ServingStatus.SERVING) notServing++;
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, PROBE_GAP_MS));
    }
    const loopDelay = await serverLoopDelay();
    probing = false;
    await Promise.all(flood);

    const times = checks.map((check) => check.ms);
    const p99 = percentile(times, 0.99);
    const floodCounts = countBy(floodOutcomes);
    const allOk = checks.every((probe) => probe.outcome === "Ok") && notServing === 0 && floodOutcomes.every((o) => FLOOD_ENDINGS.has(o));
    record("6b-event-loop-deadlines", {
      order: 6.5,
      title: "Event loop under long texts that miss their deadlines",
      passed: allOk,
      body: [
        `The same child process; ${STREAMS} callers, each on its own connection, send a 5,000-character text (uncached, PCM) with a 1 ms`,
        `deadline, again and again ${FLOOD_GAP_MS} ms after the last one ended, while a client on another connection calls grpc.health.v1 Check ${PROBES} times, ${PROBE_GAP_MS} ms apart, over gRPC.`,
        "",
        table(
          ["Probe", "Outcomes", "p50", "p95", "p99", "max"],
          [
            [
              "grpc.health.v1 Check",
              formatCounts(countBy(checks.map((c) => c.outcome))),
              ms(percentile(times, 0.5)),
              ms(percentile(times, 0.95)),
              ms(p99),
              ms(Math.max(...times)),
            ],
          ],
        ),
        "",
        `Flood calls meanwhile: ${formatCounts(floodCounts)}. Each of them is reset by its client when its 1 ms deadline passes, long`,
        "before an answer: faster than the HTTP/2 rapid-reset budget (50, then 10 a second), so the server drops such a connection",
        "and the calls on it end Canceled or without a status (lost); the client reconnects.",
        `Goal p99 < 50 ms: ${p99 < 50 ? "met" : "**missed**"} (p99 ${ms(p99)}). Server event-loop delay over the probing: p50 ${ms(loopDelay.p50)},`,
        `p99 ${ms(loopDelay.p99)}, max ${ms(loopDelay.max)}. Before the cache moved in front of the engine, such texts were phonemized on the`,
        "event loop before admission: the issue's reproduction (paced its own way) measured Check p50 ~70 ms, p99 205-353 ms, 0.88 s of lag.",
      ].join("\n"),
      callsMade: checks.length + floodOutcomes.length,
      callsLost: checks.filter((probe) => probe.outcome === "lost").length + floodOutcomes.filter((o) => o === "lost").length,
    });

    expect(formatCounts(countBy(checks.map((probe) => probe.outcome)))).toBe(`Ok ${PROBES.toLocaleString("en-US")}`);
    expect(notServing).toBe(0);
    expect(floodOutcomes.filter((o) => !FLOOD_ENDINGS.has(o))).toEqual([]);
  });
});
