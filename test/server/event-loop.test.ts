// The event loop stays free while the inference workers are busy: with four long
// syntheses running or queued (two unary calls, two streams), 50 rounds of
// grpc.health.v1 Check and ListVoices all succeed. Their latency is measured by the
// reliability suite (docs/RELIABILITY.md); here only success counts.

import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AudioEncoding } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { startServer, type RunningServer } from "./running-server.js";
import { proseOfLength, ttsOver, waitUntil } from "./support.js";

let running: RunningServer;
beforeAll(async () => {
  running = await startServer({ MAX_CONCURRENT_REQUESTS: "2", MAX_QUEUE_SIZE: "8" });
});
afterAll(() => running.app.close());

it("answers 50 health checks and voice lists while four long syntheses keep the workers busy", async () => {
  const tts = ttsOver(running, "gRPC");
  const health = createClient(Health, createGrpcTransport({ baseUrl: running.baseUrl }));
  const { admission } = running.app;
  const config = { encoding: AudioEncoding.OGG_OPUS };

  const collect = async (text: string) => {
    let bytes = 0;
    for await (const message of tts.synthesizeStream({ text, config })) {
      if (message.event.case === "chunk") bytes += message.event.value.audio.length;
    }
    return bytes;
  };
  const load = [
    tts.synthesize({ text: proseOfLength(400), config }).then((response) => response.audio.length),
    tts.synthesize({ text: proseOfLength(400), config }).then((response) => response.audio.length),
    collect(proseOfLength(400)),
    collect(proseOfLength(400)),
  ];
  await waitUntil(() => admission.stats().running === 2 && admission.stats().queued === 2, "two syntheses run and two wait");

  for (let round = 0; round < 50; round++) {
    expect((await health.check({ service: "" })).status).toBe(Status.SERVING);
    const voices = await tts.listVoices({});
    expect(voices.voices.map((voice) => voice.id)).toContain("en_US-joe-medium");
  }
  // The probes ran under load: syntheses were still going when the last one answered.
  expect(admission.stats().running).toBeGreaterThan(0);

  for (const bytes of await Promise.all(load)) expect(bytes).toBeGreaterThan(0);
  expect(admission.stats()).toMatchObject({ running: 0, queued: 0, rejected: 0 });
});
