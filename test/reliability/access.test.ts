// Abuse of the service's front door, against the entry point as a child process on
// loopback: a web page's cross-site simple requests to the OpenAI route, a client guessing
// API keys, and one client opening many streams to take the whole synthesis queue. Each
// records its section. What is asserted is what a client notices: the refusal and its
// status, health answered SERVING, the other client's calls getting slots.

import net from "node:net";
import { join } from "node:path";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { AudioEncoding, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { record, REPO_ROOT, table } from "./report.js";
import { countBy, formatCounts, outcomeOf, type Service, startService } from "./support.js";

const KEY = "reliability-key-0123456789abcdef";

let service: Service | undefined;
afterEach(async () => {
  await service?.stop();
  service = undefined;
});

function tts(baseUrl: string, options: { key?: string; localAddress?: string } = {}) {
  const port = Number(new URL(baseUrl).port);
  const withKey: Interceptor = (next) => (req) => {
    if (options.key !== undefined) req.header.set("authorization", `Bearer ${options.key}`);
    return next(req);
  };
  return createClient(
    TtsService,
    createGrpcTransport({
      baseUrl,
      interceptors: [withKey],
      ...(options.localAddress === undefined
        ? {}
        : { nodeOptions: { createConnection: () => net.connect({ host: "127.0.0.1", port, localAddress: options.localAddress }) } }),
    }),
  );
}

async function serving(baseUrl: string): Promise<boolean> {
  const { status } = await createClient(Health, createGrpcTransport({ baseUrl })).check({ service: "" }, { timeoutMs: 5000 });
  return status === HealthCheckResponse_ServingStatus.SERVING;
}

describe("front door", () => {
  it("refuses cross-site simple requests to /v1/audio/speech", async () => {
    service = await startService({ MODELS_DIR: join(REPO_ROOT, "models"), CACHE_ENABLED: "false" });
    const cases: [string, string | undefined][] = [
      ["text/plain", "text/plain;charset=UTF-8"],
      ["form", "application/x-www-form-urlencoded"],
      ["multipart", "multipart/form-data; boundary=x"],
      ["none", undefined],
    ];
    const rows: (string | number)[][] = [];
    for (const [name, type] of cases) {
      const response = await fetch(`${service.baseUrl}/v1/audio/speech`, {
        method: "POST",
        headers: { origin: "https://evil.example", ...(type === undefined ? {} : { "content-type": type }) },
        body: new Blob(['{"model":"tts-1","input":"Speak for any web page.","voice":"alloy"}']),
      });
      const audio = response.headers.get("content-type")?.startsWith("audio/") ?? false;
      rows.push([name, response.status, audio ? "yes" : "no"]);
    }
    const refused = rows.filter((row) => row[1] === 415 && row[2] === "no").length;
    record("10-cross-site", {
      order: 10.5,
      title: "Cross-site simple requests",
      passed: refused === cases.length,
      body: [
        "POST /v1/audio/speech from `Origin: https://evil.example` with the content types a browser sends cross-origin without a",
        "preflight, API keys off. Only application/json is taken.",
        "",
        table(["Content type", "HTTP status", "Audio returned"], rows),
        "",
        `Refused: ${refused} of ${cases.length}.`,
      ].join("\n"),
      callsMade: cases.length,
      callsLost: 0,
    });
    expect(rows).toEqual(cases.map(([name]) => [name, 415, "no"]));
  });

  it("spends a failed-authentication budget per address, then refuses the address outright", async () => {
    service = await startService({ MODELS_DIR: join(REPO_ROOT, "models"), CACHE_ENABLED: "false", API_KEYS: KEY });
    const { baseUrl } = service;
    const guesses = 100;
    const outcomes = [];
    for (let n = 0; n < guesses; n++) {
      const guess = `reliability-key-${String(n).padStart(16, "0")}`;
      outcomes.push((await outcomeOf(() => tts(baseUrl, { key: guess }).listVoices({}))).outcome);
    }
    const rightKeyWhileBlocked = (await outcomeOf(() => tts(baseUrl, { key: KEY }).listVoices({}))).outcome;
    const otherAddress = (await outcomeOf(() => tts(baseUrl, { key: KEY, localAddress: "127.0.0.2" }).listVoices({}))).outcome;
    const healthy = await serving(baseUrl);
    const counts = countBy(outcomes);
    const passed =
      counts.Unauthenticated === 30 &&
      counts.ResourceExhausted === 70 &&
      rightKeyWhileBlocked === "ResourceExhausted" &&
      otherAddress === "Ok";
    record("11-auth-failures", {
      order: 11,
      title: "Failed-authentication budget",
      passed: passed && healthy,
      body: [
        `${guesses} calls from 127.0.0.1, each with a different wrong API key, one after another (AUTH_FAILURES_PER_MINUTE at its`,
        "default, 30). Then the right key from the same address, the right key from 127.0.0.2, and a grpc.health.v1 Check.",
        "",
        table(
          ["Calls", "Outcome"],
          [
            [`${guesses} wrong keys`, formatCounts(counts)],
            ["right key, same address", rightKeyWhileBlocked],
            ["right key, another address", otherAddress],
            ["health", healthy ? "SERVING" : "not serving"],
          ],
        ),
      ].join("\n"),
      callsMade: guesses + 3,
      callsLost: 0,
    });
    expect(counts).toEqual({ Unauthenticated: 30, ResourceExhausted: 70 });
    expect(rightKeyWhileBlocked).toBe("ResourceExhausted");
    expect(otherAddress).toBe("Ok");
    expect(healthy).toBe(true);
  });

  it("keeps one greedy client to its share of the queue while another client's calls get slots", async () => {
    service = await startService({ MODELS_DIR: join(REPO_ROOT, "models"), CACHE_ENABLED: "false" });
    const { baseUrl } = service;
    const streams = 34;
    const greedy = tts(baseUrl, { localAddress: "127.0.0.2" });
    const polite = tts(baseUrl, { localAddress: "127.0.0.3" });
    const sentence = (n: number) =>
      `Greedy stream number ${n} asks for a sentence of its own, read slowly and at length, to hold its place.`;
    // 34 streams opened at once and never read: each holds its slot or its place in line.
    const aborts = new AbortController();
    const greedyOutcomes = Array.from({ length: streams }, (_, n) =>
      outcomeOf(async () => {
        const stream = greedy.synthesizeStream({ text: sentence(n), config: { encoding: AudioEncoding.PCM } }, { signal: aborts.signal });
        await stream[Symbol.asyncIterator]().next();
        await new Promise((resolve) => aborts.signal.addEventListener("abort", resolve));
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const politeCalls = await Promise.all(
      [1, 2, 3].map((n) =>
        outcomeOf(() => polite.synthesize({ text: `A polite call, number ${n}.`, config: { encoding: AudioEncoding.WAV } })),
      ),
    );
    aborts.abort();
    const greedyCounts = countBy((await Promise.all(greedyOutcomes)).map((result) => result.outcome));
    const politeCounts = countBy(politeCalls.map((result) => result.outcome));
    // Defaults: MAX_CONCURRENT_REQUESTS 2, MAX_QUEUE_SIZE 32, MAX_QUEUE_PER_CLIENT 8.
    const refusedGreedy = greedyCounts.ResourceExhausted ?? 0;
    record("12-fair-queue", {
      order: 12,
      title: "One greedy client and the queue",
      passed: refusedGreedy === streams - 2 - 8 && politeCounts.Ok === 3,
      body: [
        `Defaults (MAX_CONCURRENT_REQUESTS 2, MAX_QUEUE_SIZE 32, MAX_QUEUE_PER_CLIENT 8). One client (127.0.0.2) opens ${streams}`,
        "SynthesizeStreams at once and reads only their first message; a second client (127.0.0.3) then sends 3 Synthesize calls.",
        "",
        table(
          ["Client", "Calls", "Outcomes"],
          [
            ["greedy", streams, formatCounts(greedyCounts)],
            ["polite", 3, formatCounts(politeCounts)],
          ],
        ),
        "",
        "The greedy client's streams end Canceled when it gives up on them (after the polite calls are answered).",
      ].join("\n"),
      callsMade: streams + 3,
      callsLost: (greedyCounts.lost ?? 0) + (politeCounts.lost ?? 0),
    });
    expect(politeCounts).toEqual({ Ok: 3 });
    expect(refusedGreedy).toBe(streams - 2 - 8);
  });
});
