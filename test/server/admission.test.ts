// Admission control and rate limiting against the real service: MAX_CONCURRENT_REQUESTS
// syntheses at once, MAX_QUEUE_SIZE waiting, RESOURCE_EXHAUSTED with a retry-after-ms
// hint beyond that; cache hits pass by; a queued call that times out or is cancelled
// leaves the queue without running; MAX_REQUESTS_PER_MINUTE per peer address or API key.

import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { AudioEncoding, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { callError, startServer, type RunningServer } from "./running-server.js";
import { PROTOCOLS, proseOfLength, ttsOver, waitUntil } from "./support.js";

let running: RunningServer | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await running?.app.close();
  running = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

// Several seconds of inference on one worker: the slot stays taken while the test looks.
const LONG = 700;
const PCM = { encoding: AudioEncoding.PCM };

function retryAfterMs(error: { metadata: Headers }): number {
  const value = error.metadata.get("retry-after-ms");
  expect(value).toMatch(/^[1-9]\d*$/);
  return Number(value);
}

describe("admission control", () => {
  it("runs MAX_CONCURRENT_REQUESTS syntheses, queues MAX_QUEUE_SIZE and refuses the next at once with RESOURCE_EXHAUSTED and retry-after-ms", async () => {
    running = await startServer({ MAX_CONCURRENT_REQUESTS: "1", MAX_QUEUE_SIZE: "1" });
    const { admission } = running.app;
    const tts = ttsOver(running, "gRPC");

    const first = tts.synthesize({ text: proseOfLength(LONG), config: PCM });
    await waitUntil(() => admission.stats().running === 1, "the first synthesis runs");
    const second = tts.synthesize({ text: proseOfLength(40), config: PCM });
    await waitUntil(() => admission.stats().queued === 1, "the second synthesis waits");

    for (const protocol of PROTOCOLS) {
      const client = ttsOver(running, protocol);
      const unary = await callError(client.synthesize({ text: proseOfLength(40), config: PCM }));
      expect(unary.code, protocol).toBe(Code.ResourceExhausted);
      expect(unary.rawMessage).toContain("MAX_QUEUE_SIZE");
      expect(retryAfterMs(unary)).toBeLessThanOrEqual(60_000);
      const streamed = await callError(
        (async () => {
          for await (const _ of client.synthesizeStream({ text: proseOfLength(40), config: PCM }));
        })(),
      );
      expect(streamed.code, protocol).toBe(Code.ResourceExhausted);
      retryAfterMs(streamed);
    }
    // Refused while the first still held its slot: nobody waited for it.
    expect(admission.stats()).toMatchObject({ running: 1, queued: 1, rejected: 2 * PROTOCOLS.length });

    expect((await first).audio.length).toBeGreaterThan(0);
    expect((await second).audio.length).toBeGreaterThan(0);
    expect(admission.stats()).toMatchObject({ running: 0, queued: 0, admitted: 2 });
  });

  it("serves cache hits, unary and streamed, while every slot and the queue are taken", async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), "tts-admission-cache-"));
    cleanups.push(() => rm(cacheDir, { recursive: true, force: true }));
    running = await startServer({ MAX_CONCURRENT_REQUESTS: "1", MAX_QUEUE_SIZE: "1", CACHE_ENABLED: "true", CACHE_DIR: cacheDir });
    const { admission } = running.app;
    const tts = ttsOver(running, "gRPC");
    const cachedText = proseOfLength(60);
    expect((await tts.synthesize({ text: cachedText, config: PCM })).cached).toBe(false);
    const admittedBefore = admission.stats().admitted;

    const busy = [tts.synthesize({ text: proseOfLength(LONG), config: PCM })];
    await waitUntil(() => admission.stats().running === 1, "a synthesis runs");
    busy.push(tts.synthesize({ text: proseOfLength(40), config: PCM }));
    await waitUntil(() => admission.stats().queued === 1, "a synthesis waits");
    expect((await callError(tts.synthesize({ text: proseOfLength(40), config: PCM }))).code).toBe(Code.ResourceExhausted);

    const hit = await tts.synthesize({ text: cachedText, config: PCM });
    expect(hit.cached).toBe(true);
    const summaries = [];
    for await (const message of tts.synthesizeStream({ text: cachedText, config: PCM })) {
      if (message.event.case === "summary") summaries.push(message.event.value);
    }
    expect(summaries).toMatchObject([{ cached: true }]);
    expect(admission.stats()).toMatchObject({ running: 1, queued: 1, admitted: admittedBefore + 1 });
    await Promise.all(busy);
  });

  it("takes a queued call whose deadline passes out of the queue without running it", async () => {
    running = await startServer({ MAX_CONCURRENT_REQUESTS: "1", MAX_QUEUE_SIZE: "1" });
    const { admission } = running.app;
    const tts = ttsOver(running, "gRPC");
    const first = tts.synthesize({ text: proseOfLength(LONG), config: PCM });
    await waitUntil(() => admission.stats().running === 1, "the first synthesis runs");

    const timedOut = await callError(tts.synthesize({ text: proseOfLength(40), config: PCM }, { timeoutMs: 300 }));
    expect(timedOut.code).toBe(Code.DeadlineExceeded);
    await waitUntil(() => admission.stats().abandoned === 1, "the call leaves the queue");
    expect(admission.stats()).toMatchObject({ running: 1, queued: 0 });

    // Its place is free again: the next call waits instead of being refused.
    const next = tts.synthesize({ text: proseOfLength(40), config: PCM });
    await waitUntil(() => admission.stats().queued === 1, "the next call waits");
    await first;
    await next;
    // Only the first and the next ever got a slot.
    expect(admission.stats()).toMatchObject({ admitted: 2, running: 0, queued: 0 });
  });

  it("takes a queued stream the client cancels out of the queue without running it", async () => {
    running = await startServer({ MAX_CONCURRENT_REQUESTS: "1", MAX_QUEUE_SIZE: "4" });
    const { admission } = running.app;
    const tts = ttsOver(running, "Connect");
    const first = tts.synthesize({ text: proseOfLength(LONG), config: PCM });
    await waitUntil(() => admission.stats().running === 1, "the first synthesis runs");

    const controller = new AbortController();
    const cancelled = callError(
      (async () => {
        for await (const _ of tts.synthesizeStream({ text: proseOfLength(40), config: PCM }, { signal: controller.signal }));
      })(),
    );
    await waitUntil(() => admission.stats().queued === 1, "the stream waits");
    controller.abort();
    expect((await cancelled).code).toBe(Code.Canceled);
    await waitUntil(() => admission.stats().abandoned === 1, "the stream leaves the queue");
    expect(admission.stats().queued).toBe(0);

    await first;
    expect(admission.stats()).toMatchObject({ admitted: 1, running: 0 });
  });
});

describe("fair shares of the queue", () => {
  it("keeps a greedy client to MAX_QUEUE_PER_CLIENT waiting while another's calls still get in, and hands slots out in turn", async () => {
    running = await startServer({ MAX_CONCURRENT_REQUESTS: "1", MAX_QUEUE_SIZE: "6", MAX_QUEUE_PER_CLIENT: "2" });
    const { admission } = running.app;
    // Two clients by address: 127.0.0.2 is greedy, 127.0.0.3 polite.
    const greedy = ttsFrom(running, "127.0.0.2");
    const polite = ttsFrom(running, "127.0.0.3");
    const finished: string[] = [];
    const speak = (client: typeof greedy, name: string, length: number) =>
      client.synthesize({ text: proseOfLength(length), config: PCM }).then(() => finished.push(name));

    const running1 = speak(greedy, "greedy 1", LONG);
    await waitUntil(() => admission.stats().running === 1, "the greedy client holds the slot");
    // One at a time: two calls sent together may reach the queue in either order.
    const queued = [speak(greedy, "greedy 2", 40)];
    await waitUntil(() => admission.stats().queued === 1, "its second call waits");
    queued.push(speak(greedy, "greedy 3", 41));
    await waitUntil(() => admission.stats().queued === 2, "two of its calls wait");
    const refused = await Promise.all([1, 2, 3].map((n) => callError(greedy.synthesize({ text: proseOfLength(42 + n), config: PCM }))));
    for (const error of refused) {
      expect(error.code).toBe(Code.ResourceExhausted);
      expect(error.rawMessage).toContain("MAX_QUEUE_PER_CLIENT");
      retryAfterMs(error);
    }
    // The queue has room for others: the polite client's call waits, then runs before the greedy client's second queued call.
    const politeCall = speak(polite, "polite", 40);
    await waitUntil(() => admission.stats().queued === 3, "the polite call waits");
    await Promise.all([running1, politeCall, ...queued]);
    expect(finished).toEqual(["greedy 1", "greedy 2", "polite", "greedy 3"]);
    expect(admission.stats()).toMatchObject({ rejected: 3, admitted: 4 });
  });
});

/** A gRPC TtsService client whose connections come from `localAddress`. */
function ttsFrom(running: RunningServer, localAddress: string, apiKey?: string) {
  const port = running.server.port;
  return createClient(
    TtsService,
    createGrpcTransport({
      baseUrl: running.baseUrl,
      nodeOptions: { createConnection: () => net.connect({ host: "127.0.0.1", port, localAddress }) },
      interceptors: apiKey
        ? [
            (next) => (req) => {
              req.header.set("authorization", `Bearer ${apiKey}`);
              return next(req);
            },
          ]
        : [],
    }),
  );
}

describe("MAX_REQUESTS_PER_MINUTE", () => {
  it("limits each peer address to that many calls a minute, with a retry hint, and leaves health checks alone", async () => {
    running = await startServer({ MAX_REQUESTS_PER_MINUTE: "3" });
    const one = ttsFrom(running, "127.0.0.1");
    for (let i = 0; i < 3; i++) await one.listVoices({});
    const limited = await callError(one.listVoices({}));
    expect(limited.code).toBe(Code.ResourceExhausted);
    expect(limited.rawMessage).toContain("MAX_REQUESTS_PER_MINUTE");
    // One call back in the bucket every 20 s.
    const wait = retryAfterMs(limited);
    expect(wait).toBeGreaterThan(15_000);
    expect(wait).toBeLessThanOrEqual(20_000);

    // Another address has its own budget.
    const other = ttsFrom(running, "127.0.0.2");
    for (let i = 0; i < 3; i++) await other.listVoices({});
    expect((await callError(other.listVoices({}))).code).toBe(Code.ResourceExhausted);

    const health = createClient(Health, createGrpcTransport({ baseUrl: running.baseUrl }));
    for (let i = 0; i < 5; i++) await health.check({ service: "" });
  });

  it("limits each API key separately when API keys are on", async () => {
    const keys = ["rate-key-one-0123456789", "rate-key-two-0123456789"];
    running = await startServer({ MAX_REQUESTS_PER_MINUTE: "2", API_KEYS: keys.join(",") });
    const [first, second] = keys.map((key) => ttsFrom(running!, "127.0.0.1", key));
    await first!.listVoices({});
    await first!.listVoices({});
    expect((await callError(first!.listVoices({}))).code).toBe(Code.ResourceExhausted);
    // Same address, other key: a budget of its own.
    await second!.listVoices({});
    await second!.listVoices({});
    expect((await callError(second!.listVoices({}))).code).toBe(Code.ResourceExhausted);
  });
});
