// ghz against the real entry point (child process) with MAX_CONCURRENT_REQUESTS=2 and the
// default queue: 60 s at concurrency 50, distinct short texts mixed with cached phrases.
// Only OK and RESOURCE_EXHAUSTED may come back. grpc.health.v1 Check is probed throughout.

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ms, percentile, record, REPO_ROOT, table } from "./report.js";
import { countBy, formatCounts, outcomeOf, rssMiB, startService, type Outcome, type Service } from "./support.js";

const run = promisify(execFile);
const DURATION_S = 60;
const CONCURRENCY = 50;
const CACHED = ["Welcome back.", "Your order is ready.", "Please hold the line.", "Thank you for calling."];

let service: Service;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "tts-load-"));
  service = await startService({ MAX_CONCURRENT_REQUESTS: "2", CACHE_DIR: join(work, "cache"), MODELS_DIR: join(REPO_ROOT, "models") });
});

afterAll(async () => {
  await service?.stop();
  rmSync(work, { recursive: true, force: true });
});

interface GhzReport {
  count: number;
  total: number;
  average: number;
  rps: number;
  latencyDistribution: { percentage: number; latency: number }[] | null;
  statusCodeDistribution: Record<string, number>;
  errorDistribution: Record<string, number> | null;
}

describe("load", () => {
  it(`ghz ${DURATION_S} s at concurrency ${CONCURRENCY}: only OK and RESOURCE_EXHAUSTED; health answers throughout`, async () => {
    const client = createClient(TtsService, createGrpcTransport({ baseUrl: service.baseUrl }));
    for (const text of CACHED) await client.synthesize({ text, config: { encoding: AudioEncoding.PCM } }, { timeoutMs: 60_000 });

    // Reflection gives ghz the schema (its parser rejects proto3 optional in tts.proto).
    // Round-robin over the array: half distinct texts (template), half cached phrases.
    const distinct = (n: number) => ({
      text: `Load test phrase {{.RequestNumber}} variant ${n}.`,
      config: { encoding: AudioEncoding.PCM },
    });
    const data = [
      distinct(1),
      { text: CACHED[0], config: { encoding: AudioEncoding.PCM } },
      distinct(2),
      { text: CACHED[1], config: { encoding: AudioEncoding.PCM } },
      distinct(3),
      { text: CACHED[2], config: { encoding: AudioEncoding.PCM } },
      distinct(4),
      { text: CACHED[3], config: { encoding: AudioEncoding.PCM } },
    ];
    const dataFile = join(work, "data.json");
    writeFileSync(dataFile, JSON.stringify(data));

    const health = createClient(Health, createGrpcTransport({ baseUrl: service.baseUrl }));
    const probes: { outcome: Outcome; ms: number; serving: boolean }[] = [];
    let loading = true;
    const prober = (async () => {
      while (loading) {
        let serving = false;
        const result = await outcomeOf(async () => {
          serving = (await health.check({ service: "" }, { timeoutMs: 30_000 })).status === HealthCheckResponse_ServingStatus.SERVING;
        });
        probes.push({ ...result, serving });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();

    const rssBefore = rssMiB(service.entry.child.pid!);
    // --duration-stop wait: by default ghz closes its connections at the end of -z, and the
    // calls it had in flight come back as its own "transport is closing" errors.
    // ghz exits 1 when any call failed (RESOURCE_EXHAUSTED included): its JSON report is still on stdout.
    const { stdout, stderr } = await run(
      join(REPO_ROOT, ".tools/bin/ghz"),
      [
        "--insecure",
        "--call",
        "aetheros.tts.v1.TtsService/Synthesize",
        "-c",
        String(CONCURRENCY),
        "-z",
        `${DURATION_S}s`,
        "--duration-stop",
        "wait",
        "--timeout",
        "60s",
        "--data-file",
        dataFile,
        "-O",
        "json",
        `127.0.0.1:${service.port}`,
      ],
      { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 },
    ).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? "", stderr: error.stderr ?? String(error) }));
    const rssAfter = rssMiB(service.entry.child.pid!);
    loading = false;
    await prober;
    expect(stdout.trim().startsWith("{"), `ghz printed no report: ${stderr}`).toBe(true);
    const report = JSON.parse(stdout) as GhzReport;
    const statuses = report.statusCodeDistribution;
    const latency = (p: number) => (report.latencyDistribution?.find((entry) => entry.percentage === p)?.latency ?? Number.NaN) / 1e6;
    const probeMs = probes.map((probe) => probe.ms);
    const unexpected = Object.keys(statuses).filter((status) => !["OK", "ResourceExhausted"].includes(status));
    const answered = Object.values(statuses).reduce((sum, count) => sum + count, 0);
    const probesBad = probes.filter((probe) => probe.outcome !== "Ok" || !probe.serving).length;

    record("3-load", {
      order: 3,
      title: "Load",
      passed: unexpected.length === 0 && probesBad === 0 && (statuses.OK ?? 0) > 0,
      body: [
        `ghz, ${DURATION_S} s at concurrency ${CONCURRENCY}, Synthesize (PCM) over gRPC against the entry point as a child process,`,
        "MAX_CONCURRENT_REQUESTS=2, MAX_QUEUE_SIZE default (32), cache on; requests alternate between distinct",
        `short texts (never cached) and ${CACHED.length} cached phrases. Latency figures are over every call, refusals included.`,
        "",
        table(
          ["Figure", "Value"],
          [
            ["Calls", report.count.toLocaleString("en-US")],
            [
              "Statuses",
              Object.entries(statuses)
                .map(([name, count]) => `${name} ${count.toLocaleString("en-US")}`)
                .join(", "),
            ],
            ["Other errors", report.errorDistribution ? JSON.stringify(report.errorDistribution) : "none"],
            ["Throughput (all answers)", `${report.rps.toFixed(1)} calls/s`],
            ["Throughput (OK)", `${((statuses.OK ?? 0) / DURATION_S).toFixed(1)} calls/s`],
            ["p50 / p95 / p99", `${ms(latency(50))} / ${ms(latency(95))} / ${ms(latency(99))}`],
            [
              "grpc.health.v1 Check during load",
              `${probes.length} probes, ${formatCounts(countBy(probes.map((p) => p.outcome)))}, not SERVING ${probes.filter((p) => !p.serving).length}`,
            ],
            ["Health p50 / p99", `${ms(percentile(probeMs, 0.5))} / ${ms(percentile(probeMs, 0.99))}`],
            ["Server RSS before / after", `${rssBefore.toFixed(0)} MiB / ${rssAfter.toFixed(0)} MiB`],
          ],
        ),
      ].join("\n"),
      callsMade: report.count + probes.length,
      callsLost: report.count - answered + probes.filter((probe) => probe.outcome === "lost").length,
    });

    expect(unexpected, JSON.stringify(report.errorDistribution)).toEqual([]);
    expect(answered).toBe(report.count);
    expect(statuses.OK ?? 0).toBeGreaterThan(0);
    expect(probes.length).toBeGreaterThan(10);
    expect(probesBad).toBe(0);
    // Still serving after the load.
    const after = await client.synthesize({ text: "After the load.", config: { encoding: AudioEncoding.PCM } }, { timeoutMs: 60_000 });
    expect(after.durationSeconds).toBeGreaterThan(0.3);
  });
});
