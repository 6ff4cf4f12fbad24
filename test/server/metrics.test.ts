// Prometheus metrics at GET /metrics on the service port, scraped after real calls.
import { spawnSync } from "node:child_process";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { callError, startServer, type RunningServer } from "./running-server.js";

let running: RunningServer;
beforeAll(async () => {
  running = await startServer({ CACHE_ENABLED: "true", CACHE_DIR: `/tmp/tts-metrics-${process.pid}` });
});
afterAll(() => running.app.close());

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`) || (labels === "" && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.split(" ").pop());
}

it("counts calls by method and status, synthesis figures, cache, queue and voices", async () => {
  const tts = createClient(TtsService, createGrpcTransport({ baseUrl: running.baseUrl }));
  await tts.synthesize({ text: "Counting for metrics." });
  await tts.synthesize({ text: "Counting for metrics." });
  await callError(tts.synthesize({ text: "" }));
  for await (const _ of tts.synthesizeStream({ text: "A streamed one. Two sentences." })) void _;

  const response = await fetch(`${running.baseUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  const text = await response.text();
  const rpc = (type: string, method: string) => `grpc_type="${type}",grpc_service="aetheros.tts.v1.TtsService",grpc_method="${method}"`;
  expect(sample(text, "grpc_server_started_total", rpc("unary", "Synthesize"))).toBe(3);
  expect(sample(text, "grpc_server_handled_total", `${rpc("unary", "Synthesize")},grpc_code="OK"`)).toBe(2);
  expect(sample(text, "grpc_server_handled_total", `${rpc("unary", "Synthesize")},grpc_code="InvalidArgument"`)).toBe(1);
  expect(sample(text, "grpc_server_handled_total", `${rpc("server_stream", "SynthesizeStream")},grpc_code="OK"`)).toBe(1);
  expect(sample(text, "grpc_server_handling_seconds_count", rpc("server_stream", "SynthesizeStream"))).toBe(1);
  expect(sample(text, "aetheros_tts_synthesis_seconds_count", "")).toBe(2);
  expect(sample(text, "aetheros_tts_real_time_factor_count", "")).toBe(2);
  expect(sample(text, "aetheros_tts_audio_seconds_total", 'cached="true"')).toBeGreaterThan(0.5);
  expect(sample(text, "aetheros_tts_cache_hits_total", 'tier="total"')).toBe(1);
  expect(sample(text, "aetheros_tts_voices_loaded", "")).toBe(1);
  expect(sample(text, "aetheros_tts_queue_depth", "")).toBe(0);
  // Node's own metrics under their usual names, as Node.js dashboards expect them.
  expect(text).toContain("nodejs_eventloop_lag_seconds");
  expect(text).not.toContain("aetheros_tts_nodejs_");
});

it("passes promtool check metrics (names, types and help as Prometheus expects them)", async () => {
  const tts = createClient(TtsService, createGrpcTransport({ baseUrl: running.baseUrl }));
  await tts.synthesize({ text: "Linted." });
  await callError(tts.synthesize({ text: "" }));
  const text = await (await fetch(`${running.baseUrl}/metrics`)).text();
  const lint = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  expect({ status: lint.status, output: `${lint.stdout}${lint.stderr}`.trim() }).toEqual({ status: 0, output: "" });
});

it("answers 404 for other paths", async () => {
  expect((await fetch(`${running.baseUrl}/nope`)).status).toBe(404);
});

it("counts plain-HTTP routes (the page, the OpenAI endpoint) by route and status", async () => {
  const scrape = async () => (await fetch(`${running.baseUrl}/metrics`)).text();
  const count = (text: string, route: string, status: string) =>
    sample(text, "aetheros_tts_http_requests_total", `route="${route}",status="${status}"`) ?? 0;
  const before = await scrape();
  // The audio streams: the call is over (and counted) once its body has been sent, not at its headers.
  const speech = async (input: string) => {
    const response = await fetch(`${running.baseUrl}/v1/audio/speech`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tts-1", voice: "alloy", input, response_format: "wav" }),
    });
    await response.arrayBuffer();
    return response;
  };
  expect((await speech("Counted over HTTP.")).status).toBe(200);
  expect((await speech("")).status).toBe(400);
  expect((await fetch(`${running.baseUrl}/`)).status).toBe(200);

  const after = await scrape();
  expect(count(after, "/v1/audio/speech", "200") - count(before, "/v1/audio/speech", "200")).toBe(1);
  expect(count(after, "/v1/audio/speech", "400") - count(before, "/v1/audio/speech", "400")).toBe(1);
  expect(count(after, "/", "200") - count(before, "/", "200")).toBe(1);
  expect(sample(after, "aetheros_tts_http_request_duration_seconds_count", 'route="/v1/audio/speech"')).toBeGreaterThanOrEqual(2);
});
