// Graceful shutdown in-process: calls on connections that are already open
// are refused while draining, and close() does not wait for idle connections.

import http from "node:http";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, expect, it } from "vitest";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import * as reflection from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { RequestQueue } from "../../clients/node/src/index.js";
import { callError, startServer, type RunningServer } from "./running-server.js";

let running: RunningServer;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
afterEach(() => running.app.close());

it("refuses a call on a kept-alive HTTP/1.1 connection with UNAVAILABLE once draining", async () => {
  running = await startServer({}, { ready: false });
  const tts = createClient(TtsService, createConnectTransport({ baseUrl: running.baseUrl, httpVersion: "1.1", nodeOptions: { agent } }));
  await tts.listVoices({});

  // A call in flight keeps the server draining instead of closed.
  const requests = new RequestQueue<{ messageRequest: reflection.ServerReflectionRequest["messageRequest"] }>();
  const answers = createClient(reflection.ServerReflection, createGrpcTransport({ baseUrl: running.baseUrl }))
    .serverReflectionInfo(requests)
    [Symbol.asyncIterator]();
  requests.push({ messageRequest: { case: "listServices", value: "" } });
  await answers.next();

  const closed = running.server.close();
  const refused = await callError(tts.listVoices({}));
  expect(refused.code).toBe(Code.Unavailable);
  expect(refused.rawMessage).toBe("server is shutting down");
  expect(running.logLines.at(-1)).toMatchObject({ method: "aetheros.tts.v1.TtsService/ListVoices", code: "unavailable" });

  requests.end();
  await answers.next();
  await closed;
});

it("closes at once when only idle keep-alive connections are left", async () => {
  running = await startServer({ SHUTDOWN_GRACE_SECONDS: "20" }, { ready: false });
  const tts = createClient(TtsService, createConnectTransport({ baseUrl: running.baseUrl, httpVersion: "1.1", nodeOptions: { agent } }));
  await tts.listVoices({});
  const grpc = createClient(TtsService, createGrpcTransport({ baseUrl: running.baseUrl }));
  await grpc.listVoices({});

  const started = performance.now();
  await running.server.close();
  expect(performance.now() - started).toBeLessThan(1000);
  expect(running.logLines.some((line) => line.msg === "grace period over, cutting off calls")).toBe(false);
});
