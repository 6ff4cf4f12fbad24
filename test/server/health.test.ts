// grpc.health.v1 over gRPC: NOT_SERVING until ready, SERVING, then NOT_SERVING
// through shutdown, for Check and Watch alike.

import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { HealthStatus, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { callError, startServer, type RunningServer } from "./running-server.js";

let running: RunningServer;
afterEach(() => running.app.close());

function healthClient() {
  return createClient(Health, createGrpcTransport({ baseUrl: running.baseUrl }));
}

describe("Check", () => {
  it("reports NOT_SERVING for the server and TtsService until the service is ready, then SERVING", async () => {
    running = await startServer({}, { ready: false });
    const client = healthClient();
    for (const service of ["", "aetheros.tts.v1.TtsService"]) {
      expect((await client.check({ service })).status).toBe(Status.NOT_SERVING);
    }
    running.health.markServing();
    for (const service of ["", "aetheros.tts.v1.TtsService"]) {
      expect((await client.check({ service })).status).toBe(Status.SERVING);
    }
  });

  it("answers NOT_FOUND for a service the server does not have", async () => {
    running = await startServer({}, { ready: false });
    const error = await callError(healthClient().check({ service: "aetheros.tts.v1.NoSuchService" }));
    expect(error.code).toBe(Code.NotFound);
  });

  it("agrees with TtsService's own Health method", async () => {
    running = await startServer({}, { ready: false });
    const tts = createClient(TtsService, createGrpcTransport({ baseUrl: running.baseUrl }));
    expect((await tts.health({})).status).toBe(HealthStatus.NOT_SERVING);
    running.health.markServing();
    const response = await tts.health({});
    expect(response.status).toBe(HealthStatus.SERVING);
    expect(response.version).toBe("0.1.0");
    expect(response.defaultVoice).toBe("en_US-joe-medium");
  });
});

describe("Watch", () => {
  it("streams NOT_SERVING, SERVING, then NOT_SERVING on shutdown, and ends", async () => {
    running = await startServer({}, { ready: false });
    const updates = healthClient().watch({ service: "" })[Symbol.asyncIterator]();
    expect((await updates.next()).value?.status).toBe(Status.NOT_SERVING);
    running.health.markServing();
    expect((await updates.next()).value?.status).toBe(Status.SERVING);
    const closed = running.server.close();
    expect((await updates.next()).value?.status).toBe(Status.NOT_SERVING);
    expect((await updates.next()).done).toBe(true);
    await closed;
  });

  it("reports SERVICE_UNKNOWN for a service the server does not have", async () => {
    running = await startServer({}, { ready: false });
    const controller = new AbortController();
    const updates = healthClient().watch({ service: "nope.Nope" }, { signal: controller.signal })[Symbol.asyncIterator]();
    expect((await updates.next()).value?.status).toBe(Status.SERVICE_UNKNOWN);
    controller.abort();
  });

  it("stays NOT_SERVING when readiness is reported after shutdown began", async () => {
    running = await startServer({}, { ready: false });
    const closed = running.server.close();
    running.health.markServing();
    expect(running.health.status("")).toBe(Status.NOT_SERVING);
    await closed;
  });
});
