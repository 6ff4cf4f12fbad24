// Attacks on the edge, against the entry point as a child process on 127.0.0.1, bounded in
// count and time: slow HTTP/1.1 clients holding 1,000 connections (slowloris), an HTTP/2
// rapid-reset flood from a separate process, and deadlines too long for Node's timers.
// Each records its section. Health is probed meanwhile as kubelet does: a new connection
// per grpc.health.v1 Check. Latencies are reported, not asserted (shared machine); what is
// asserted is what a client notices: connections closed with 408, health answered SERVING,
// calls with huge deadlines served.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, SynthesizeRequestSchema, SynthesizeResponseSchema } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ms, percentile, record, REPO_ROOT, table } from "./report.js";
import { countBy, formatCounts, outcomeOf, startService, type Outcome, type Service } from "./support.js";

const HEADERS_TIMEOUT_SECONDS = 5;
const REQUEST_TIMEOUT_SECONDS = 10;
const SLOW_CONNECTIONS = 1000;
const DRIP_MS = 1000;
const PROBE_GAP_MS = 50;

let service: Service;
beforeAll(async () => {
  service = await startService({
    MODELS_DIR: join(REPO_ROOT, "models"),
    CACHE_ENABLED: "false",
    HTTP1_HEADERS_TIMEOUT_SECONDS: String(HEADERS_TIMEOUT_SECONDS),
    HTTP1_REQUEST_TIMEOUT_SECONDS: String(REQUEST_TIMEOUT_SECONDS),
  });
});
afterAll(async () => {
  await service?.stop();
});

/** One grpc.health.v1 Check over a connection of its own, as kubelet's probe makes it. */
async function probe(): Promise<{ outcome: Outcome; ms: number; serving: boolean }> {
  const transport = createGrpcTransport({ baseUrl: service.baseUrl });
  let serving = false;
  const result = await outcomeOf(async () => {
    const { status } = await createClient(Health, transport).check({ service: "" }, { timeoutMs: 5000 });
    serving = status === HealthCheckResponse_ServingStatus.SERVING;
  });
  return { ...result, serving };
}

/** Probes until `until` settles; resolves with every probe. */
async function probeWhile(until: Promise<unknown>): Promise<{ outcome: Outcome; ms: number; serving: boolean }[]> {
  let done = false;
  void until.finally(() => {
    done = true;
  });
  const probes: { outcome: Outcome; ms: number; serving: boolean }[] = [];
  while (!done) {
    probes.push(await probe());
    await new Promise((resolve) => setTimeout(resolve, PROBE_GAP_MS));
  }
  return probes;
}

function probeRow(name: string, probes: { outcome: Outcome; ms: number }[]): (string | number)[] {
  const times = probes.map((p) => p.ms);
  return [
    name,
    formatCounts(countBy(probes.map((p) => p.outcome))),
    ms(percentile(times, 0.5)),
    ms(percentile(times, 0.99)),
    ms(Math.max(...times)),
  ];
}

interface SlowConnection {
  kind: "headers" | "body";
  openedAt: number;
  closedAt?: number;
  answer: string;
}

/** A client that sends part of a request and then one more byte every DRIP_MS, never finishing. */
function slowConnection(kind: SlowConnection["kind"]): Promise<SlowConnection> {
  return new Promise((resolve) => {
    const connection: SlowConnection = { kind, openedAt: performance.now(), answer: "" };
    const socket = net.connect(service.port, "127.0.0.1");
    let drip: NodeJS.Timeout | undefined;
    socket.on("connect", () => {
      socket.write(
        kind === "headers"
          ? "POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          : "POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 10000\r\n\r\n{",
      );
      drip = setInterval(() => socket.write(kind === "headers" ? "x-a: b\r\n" : " "), DRIP_MS);
    });
    socket.on("data", (data) => {
      connection.answer ||= data.toString("latin1").split("\r\n")[0] ?? "";
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearInterval(drip);
      connection.closedAt = performance.now();
      resolve(connection);
    });
  });
}

describe("edge", () => {
  it(`closes ${SLOW_CONNECTIONS} slowloris connections within the headers and request timeouts while health is answered`, async () => {
    const before = await Promise.all(Array.from({ length: 20 }, () => probe()));
    const connections: Promise<SlowConnection>[] = [];
    for (let i = 0; i < SLOW_CONNECTIONS; i++) connections.push(slowConnection(i % 2 === 0 ? "headers" : "body"));
    const all = Promise.all(connections);
    const during = await probeWhile(all);
    const closed = await all;

    const rows = (["headers", "body"] as const).map((kind) => {
      const ofKind = closed.filter((c) => c.kind === kind);
      const lifetimes = ofKind.map((c) => (c.closedAt! - c.openedAt) / 1000);
      return {
        kind,
        count: ofKind.length,
        answers: formatCounts(countBy(ofKind.map((c) => c.answer || "(none)"))),
        max: Math.max(...lifetimes),
        min: Math.min(...lifetimes),
        limit: kind === "headers" ? HEADERS_TIMEOUT_SECONDS : REQUEST_TIMEOUT_SECONDS,
      };
    });
    // Node checks the timeouts every second (the listener's connectionsCheckingInterval).
    const withinTimeouts = rows.every((row) => row.max <= row.limit + 2);
    const healthOk = during.every((p) => p.outcome === "Ok" && p.serving);
    const times = during.map((p) => p.ms);
    record("7-slowloris", {
      order: 7,
      title: "Slowloris (slow HTTP/1.1 clients)",
      passed: withinTimeouts && healthOk && rows.every((row) => row.answers === `HTTP/1.1 408 Request Timeout ${row.count}`),
      body: [
        `The entry point as a child process, HTTP1_HEADERS_TIMEOUT_SECONDS=${HEADERS_TIMEOUT_SECONDS}, HTTP1_REQUEST_TIMEOUT_SECONDS=${REQUEST_TIMEOUT_SECONDS}.`,
        `${SLOW_CONNECTIONS} connections opened at once, half sending headers one line every ${DRIP_MS} ms and never ending them, half`,
        `sending complete headers announcing a 10,000-byte body and then one byte every ${DRIP_MS} ms; meanwhile grpc.health.v1 Check`,
        `on a new connection each, ${PROBE_GAP_MS} ms apart, until the last slow connection was closed.`,
        "",
        table(
          ["Slow clients", "Connections", "Answer", "Closed after (min–max)", "Timeout"],
          rows.map((row) => [
            row.kind === "headers" ? "partial headers" : "partial body",
            row.count,
            row.answers,
            `${row.min.toFixed(1)}–${row.max.toFixed(1)} s`,
            `${row.limit} s`,
          ]),
        ),
        "",
        table(
          ["Health while held", "Outcomes", "p50", "p99", "max"],
          [probeRow("before", before), probeRow(`with ${SLOW_CONNECTIONS} held`, during)],
        ),
        "",
        `Every slow connection closed within its timeout plus Node's 1 s check interval: ${withinTimeouts ? "yes" : "**no**"}.`,
        `Health answered SERVING throughout: ${healthOk ? "yes" : "**no**"} (p99 ${ms(percentile(times, 0.99))}).`,
      ].join("\n"),
      callsMade: before.length + during.length,
      callsLost: [...before, ...during].filter((p) => p.outcome === "lost").length,
    });

    for (const row of rows) {
      expect(row.answers).toBe(`HTTP/1.1 408 Request Timeout ${row.count}`);
      expect(row.max).toBeLessThanOrEqual(row.limit + 2);
    }
    expect(formatCounts(countBy(during.map((p) => p.outcome)))).toBe(`Ok ${during.length.toLocaleString("en-US")}`);
    expect(during.every((p) => p.serving)).toBe(true);
  });

  it("answers health during an HTTP/2 rapid-reset flood from a separate process", async () => {
    // Bounded by time rather than count: a connection that is dropped at once must not end
    // the flood sooner (480 connections took 20 s before they were dropped early, 1 s after).
    const CONNECTIONS = 100_000;
    const PAIRS = 20_000;
    const CONCURRENCY = 4;
    const MAX_SECONDS = 20;
    const before = await Promise.all(Array.from({ length: 20 }, () => probe()));
    // Scraping /metrics starts the event-loop delay histogram afresh.
    await eventLoopDelay();
    const cpuBefore = processCpuSeconds(service.entry.child.pid!);
    const flood = new Promise<{ connections: number; pairs: number; seconds: number }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          join(REPO_ROOT, "test/reliability/rapid-reset-flood.mjs"),
          ...[service.port, CONNECTIONS, PAIRS, CONCURRENCY, MAX_SECONDS].map(String),
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      let out = "";
      child.stdout.on("data", (data: Buffer) => (out += data.toString()));
      child.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`the flood exited ${code}`))));
    });
    const during = await probeWhile(flood);
    const figures = await flood;
    const cpuSeconds = processCpuSeconds(service.entry.child.pid!) - cpuBefore;
    const delay = await eventLoopDelay();
    const after = await Promise.all(Array.from({ length: 5 }, () => probe()));

    const p99 = percentile(
      during.map((p) => p.ms),
      0.99,
    );
    const healthOk = [...during, ...after].every((p) => p.outcome === "Ok" && p.serving);
    record("8-rapid-reset", {
      order: 8,
      title: "HTTP/2 rapid reset",
      passed: healthOk && p99 < 100,
      body: [
        `The entry point as a child process. A separate process (test/reliability/rapid-reset-flood.mjs) opens up to ${CONNECTIONS.toLocaleString("en-US")} HTTP/2`,
        `connections, ${CONCURRENCY} at a time, each writing ${PAIRS.toLocaleString("en-US")} HEADERS + RST_STREAM(CANCEL) pairs for`,
        `grpc.health.v1 Check as fast as the socket takes them, and opens the next as soon as one ends (at most ${MAX_SECONDS} s).`,
        "Meanwhile grpc.health.v1 Check on a new connection each, as kubelet probes, until the flood ends, from the flood's",
        "own address (127.0.0.1), as kubelet's would be behind source NAT.",
        "",
        table(
          ["Probes", "Outcomes", "p50", "p99", "max"],
          [probeRow("before", before), probeRow("during the flood", during), probeRow("after", after)],
        ),
        "",
        `Flood: ${figures.connections} connections in ${figures.seconds.toFixed(1)} s; the server's CPU meanwhile ${cpuSeconds.toFixed(1)} s;`,
        `its event-loop delay during the flood p99 ${ms(delay.p99)}, max ${ms(delay.max)} (Node's monitorEventLoopDelay via /metrics).`,
        "A connection is dropped once its client has reset more streams before an answer than its budget (50, then 10 a second),",
        "and its address then gets connections with an empty budget for 60 s; reset streams never reach the handler. A flood",
        "in a connection's first read (which Node would process whole, some 600 streams, before any event) is dropped by a",
        "scan of its frame headers before any HTTP/2 processing, as are a suspect address's resets there.",
        `Goal p99 < 100 ms: ${p99 < 100 ? "met" : "**missed**"} (${ms(p99)}).`,
      ].join("\n"),
      callsMade: before.length + during.length + after.length,
      callsLost: [...before, ...during, ...after].filter((p) => p.outcome === "lost").length,
    });

    expect(formatCounts(countBy([...during, ...after].map((p) => p.outcome)))).toBe(
      `Ok ${(during.length + after.length).toLocaleString("en-US")}`,
    );
    expect([...during, ...after].every((p) => p.serving)).toBe(true);
  });

  it("serves calls whose deadline is longer than Node's timers hold (about 24.8 days) as calls without one", async () => {
    const cases: { name: string; header: Record<string, string> }[] = [
      { name: "grpc-timeout 2147483S (just under 2^31 ms)", header: { "grpc-timeout": "2147483S" } },
      { name: "grpc-timeout 2147484S (just over)", header: { "grpc-timeout": "2147484S" } },
      { name: "grpc-timeout 597H", header: { "grpc-timeout": "597H" } },
      { name: "grpc-timeout 99999999H (the largest)", header: { "grpc-timeout": "99999999H" } },
      { name: "connect-timeout-ms 2147483648", header: { "connect-timeout-ms": "2147483648" } },
      { name: "connect-timeout-ms 9999999999 (the largest)", header: { "connect-timeout-ms": "9999999999" } },
    ];
    const rows: (string | number)[][] = [];
    let served = 0;
    for (const { name, header } of cases) {
      const started = performance.now();
      const result = "grpc-timeout" in header ? await grpcSynthesize(header) : await connectSynthesize(header);
      if (result.status === "OK" && result.audioBytes > 0) served++;
      rows.push([name, result.status, result.audioBytes.toLocaleString("en-US"), ms(performance.now() - started)]);
    }
    const overflowWarnings = service.entry.rawLines.filter((line) => line.includes("TimeoutOverflowWarning")).length;
    record("9-deadlines", {
      order: 9,
      title: "Huge deadlines",
      passed: served === cases.length && overflowWarnings === 0,
      body: [
        "The entry point as a child process, cache off: Synthesize of a short sentence (WAV) with deadlines beyond 2^31 - 1 ms, the",
        "longest a Node timer can wait, over gRPC (grpc-timeout) and Connect (connect-timeout-ms). Such a deadline is taken as none.",
        "",
        table(["Deadline", "Status", "Audio bytes", "Time"], rows),
        "",
        `Served: ${served} of ${cases.length}. TimeoutOverflowWarning in the server's output: ${overflowWarnings}.`,
      ].join("\n"),
      callsMade: cases.length,
      callsLost: 0,
    });
    expect(rows.map((row) => [row[0], row[1]])).toEqual(cases.map(({ name }) => [name, "OK"]));
    expect(overflowWarnings).toBe(0);
  });
});

const REQUEST = create(SynthesizeRequestSchema, { text: "A deadline far away.", config: { encoding: AudioEncoding.WAV, useCache: false } });

/** Synthesize over gRPC with exactly these headers (no client library sets the deadline). */
function grpcSynthesize(header: Record<string, string>): Promise<{ status: string; audioBytes: number }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(service.baseUrl);
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": "/aetheros.tts.v1.TtsService/Synthesize",
      "content-type": "application/grpc",
      te: "trailers",
      ...header,
    });
    const message = toBinary(SynthesizeRequestSchema, REQUEST);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(message.length, 1);
    stream.end(Buffer.concat([prefix, message]));
    const chunks: Buffer[] = [];
    let status = "no status";
    stream.on("response", (headers) => (status = String(headers["grpc-status"] ?? status)));
    stream.on("trailers", (trailers) => (status = String(trailers["grpc-status"])));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", reject);
    stream.on("end", () => {
      session.close();
      const body = Buffer.concat(chunks);
      const audioBytes = body.length > 5 ? fromBinary(SynthesizeResponseSchema, body.subarray(5)).audio.length : 0;
      resolve({ status: status === "0" ? "OK" : `grpc-status ${status}`, audioBytes });
    });
  });
}

/** Synthesize over Connect (HTTP/1.1, JSON) with exactly these headers. */
async function connectSynthesize(header: Record<string, string>): Promise<{ status: string; audioBytes: number }> {
  const response = await fetch(`${service.baseUrl}/aetheros.tts.v1.TtsService/Synthesize`, {
    method: "POST",
    headers: { "content-type": "application/json", ...header },
    body: JSON.stringify({ text: REQUEST.text, config: { encoding: "AUDIO_ENCODING_WAV", useCache: false } }),
  });
  const body = (await response.json()) as { audio?: string; code?: string };
  return {
    status: response.ok ? "OK" : `HTTP ${response.status} ${body.code}`,
    audioBytes: Buffer.from(body.audio ?? "", "base64").length,
  };
}

/** User + system CPU time of a process so far, in seconds (Linux /proc). */
/** The server's event-loop delay (p99 and max, ms) since /metrics was last scraped. */
async function eventLoopDelay(): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(`${service.baseUrl}/metrics`)).text();
  const seconds = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  return { p99: seconds("nodejs_eventloop_lag_p99_seconds") * 1000, max: seconds("nodejs_eventloop_lag_max_seconds") * 1000 };
}

function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
