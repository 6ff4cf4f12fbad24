// The edge settings against the real server in-process: slow HTTP/1.1 requests get 408
// and lose their connection, HTTP/2 connections resetting streams faster than their
// budget are dropped (and their address loses its budget for a while), deadlines too long for Node's timers mean none, /metrics needs a
// key while API keys are on unless METRICS_PUBLIC, and HEALTH_PORT answers health only.

import http2 from "node:http2";
import net from "node:net";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { clientKey } from "../../src/server/listener.js";
import { startServer, type RunningServer } from "./running-server.js";

const API_KEY = "edge-test-key-5f2c9a71d4e8";

let running: RunningServer;
beforeAll(async () => {
  running = await startServer({
    API_KEYS: API_KEY,
    HEALTH_PORT: "0",
    HTTP1_HEADERS_TIMEOUT_SECONDS: "1",
    HTTP1_REQUEST_TIMEOUT_SECONDS: "2",
  });
});
afterAll(async () => {
  await running?.app.close();
});

const healthCheck = (port: number | undefined) =>
  createClient(Health, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` })).check({ service: "" }, { timeoutMs: 5000 });

/** Sends `request` and never finishes it; resolves with what the server answered once it closed the connection. */
function neverFinish(request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(running.server.port, "127.0.0.1", () => socket.write(request));
    let answer = "";
    socket.on("data", (data) => (answer += data.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(answer.split("\r\n")[0] ?? ""));
  });
}

describe("slow HTTP/1.1 requests", () => {
  it("a request whose headers never end gets 408 and its connection closed (HTTP1_HEADERS_TIMEOUT_SECONDS)", async () => {
    expect(await neverFinish("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nx-slow: 1\r\n")).toBe("HTTP/1.1 408 Request Timeout");
  });

  it("a request whose body never ends gets 408 and its connection closed (HTTP1_REQUEST_TIMEOUT_SECONDS)", async () => {
    // An RPC: Connect reads the whole body before anything else (the key is checked after).
    const request =
      "POST /aetheros.tts.v1.TtsService/ListVoices HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{";
    expect(await neverFinish(request)).toBe("HTTP/1.1 408 Request Timeout");
  });
});

describe("HTTP/2 rapid reset", () => {
  // Each client has a loopback address of its own (all of 127.0.0.0/8 reaches the server),
  // since a client dropped for rapid reset is remembered by its address.
  const frame = (type: number, flags: number, id: number, payload: Buffer): Buffer => {
    const header = Buffer.alloc(9);
    header.writeUIntBE(payload.length, 0, 3);
    header[3] = type;
    header[4] = flags;
    header.writeUInt32BE(id, 5);
    return Buffer.concat([header, payload]);
  };
  const literal = (prefix: number[], value: string) => Buffer.concat([Buffer.from([...prefix, value.length]), Buffer.from(value)]);
  const headers = Buffer.concat([
    Buffer.from([0x83, 0x86]),
    literal([0x04], "/grpc.health.v1.Health/Check"),
    literal([0x01], "127.0.0.1"),
    literal([0x0f, 0x10], "application/grpc"),
  ]);
  const preface = Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), frame(0x4, 0, 0, Buffer.alloc(0))]);
  /** HEADERS + RST_STREAM(CANCEL) pairs, as test/reliability/rapid-reset-flood.mjs sends them. */
  const pairs = (count: number, firstId = 1): Buffer =>
    Buffer.concat(
      Array.from({ length: count }, (_, i) => [
        frame(0x1, 0x4, firstId + 2 * i, headers),
        frame(0x3, 0, firstId + 2 * i, Buffer.from([0, 0, 0, http2.constants.NGHTTP2_CANCEL])),
      ]).flat(),
    );

  /**
   * Sends the preface, then (once the server's SETTINGS are back, when `patient`) `count`
   * pairs; resolves once the server has closed the connection (nothing here closes it),
   * with the number of bytes the server sent.
   */
  function flood(from: string, count: number, { patient = false, hangUpAfterMs = 0 } = {}): Promise<number> {
    return new Promise((resolve) => {
      const socket = net.connect({ port: running.server.port, host: "127.0.0.1", localAddress: from });
      let received = 0;
      socket.on("error", () => undefined);
      socket.once("close", () => resolve(received));
      if (hangUpAfterMs > 0) setTimeout(() => socket.destroy(), hangUpAfterMs);
      socket.on("connect", () => {
        if (!patient) return socket.write(Buffer.concat([preface, pairs(count)]));
        socket.write(preface);
        socket.once("data", () => socket.write(pairs(count)));
      });
      socket.on("data", (data) => (received += data.length));
    });
  }

  /** HTTP/2 client options for connections from `address`. */
  const connectingFrom = (address: string) => ({
    createConnection: () => net.connect({ port: running.server.port, host: "127.0.0.1", localAddress: address }),
  });

  /** An HTTP/2 connection from `from` that resets (CANCEL) `count` calls, one at a time. */
  async function cancelCalls(from: string, count: number): Promise<http2.ClientHttp2Session> {
    const session = http2.connect(running.baseUrl, connectingFrom(from));
    session.on("error", () => undefined);
    for (let i = 0; i < count && !session.destroyed; i++) {
      const stream = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Check", "content-type": "application/grpc" });
      stream.on("error", () => undefined);
      if (stream.id === undefined) await new Promise((resolve) => stream.once("ready", resolve));
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }
    return session;
  }

  const closedOrAfter = (session: http2.ClientHttp2Session, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (session.destroyed) return resolve(true);
      const timer = setTimeout(() => resolve(false), ms);
      session.once("close", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });

  it("drops a connection that opens and resets more streams at once than its budget; other clients are served", async () => {
    // Caught in the connection's first read, before any HTTP/2 processing: not even the
    // server's SETTINGS went out.
    expect(await flood("127.0.0.2", 500)).toBe(0);
    expect((await healthCheck(running.server.port)).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it("drops a connection whose flood starts after the connection is set up", async () => {
    expect(await flood("127.0.0.3", 500, { patient: true })).toBeGreaterThan(0);
    expect((await healthCheck(running.server.port)).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it("a call reset in the read that opened it never reaches the service (no call logged)", async () => {
    const since = running.logLines.length;
    // Fewer than the budget, after the connection is set up: the connection stays.
    await flood("127.0.0.7", 40, { patient: true, hangUpAfterMs: 500 });
    expect(running.logLines.slice(since).filter((line) => line.method === "grpc.health.v1.Health/Check")).toEqual([]);
  });

  it("keeps a client that cancels a few calls now and then", async () => {
    const session = await cancelCalls("127.0.0.4", 20);
    expect(await closedOrAfter(session, 200)).toBe(false);
    session.close();
  });

  it("a flooding address may then reset no call before its answer, but calls from it that are not reset are served", async () => {
    await flood("127.0.0.5", 500);
    // The same address as a well-behaved client (another user behind the same NAT, kubelet).
    const transport = createGrpcTransport({ baseUrl: running.baseUrl, nodeOptions: connectingFrom("127.0.0.5") });
    expect((await createClient(Health, transport).check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    // Its connections lose their budget: one call reset before its answer and the server hangs up.
    const suspect = await cancelCalls("127.0.0.5", 1);
    expect(await closedOrAfter(suspect, 5000)).toBe(true);
    // Even a single pair in its first read is dropped, before any HTTP/2 processing.
    expect(await flood("127.0.0.5", 1)).toBe(0);
    // Another address cancelling as many calls keeps its connection.
    const other = await cancelCalls("127.0.0.6", 3);
    expect(await closedOrAfter(other, 200)).toBe(false);
    other.close();
  });
});

describe("deadlines longer than Node's timers hold", () => {
  for (const [header, value] of [
    ["grpc-timeout", "597H"],
    ["grpc-timeout", "2147484S"],
    ["connect-timeout-ms", "2147483648"],
  ] as const) {
    it(`${header}: ${value} is served as no deadline, not DEADLINE_EXCEEDED`, async () => {
      const response = await fetch(`${running.baseUrl}/aetheros.tts.v1.TtsService/ListVoices`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}`, [header]: value },
        body: "{}",
      });
      // grpc-timeout on a Connect call is not Connect's header: the call must simply succeed either way.
      expect(response.status).toBe(200);
      expect(((await response.json()) as { voices: unknown[] }).voices.length).toBeGreaterThan(0);
    });
  }

  it("grpc-timeout: 597H over gRPC is served", async () => {
    const session = http2.connect(running.baseUrl);
    const stream = session.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Check",
      "content-type": "application/grpc",
      te: "trailers",
      "grpc-timeout": "597H",
    });
    stream.end(Buffer.alloc(5));
    const status = await new Promise<unknown>((resolve) => {
      stream.on("trailers", (trailers) => resolve(trailers["grpc-status"]));
      stream.on("data", () => undefined);
    });
    session.close();
    expect(status).toBe("0");
  });
});

describe("GET /metrics with API keys on", () => {
  it("needs a key unless METRICS_PUBLIC (401 with www-authenticate: Bearer; 200 with the key); other paths still 404", async () => {
    const anonymous = await fetch(`${running.baseUrl}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe("Bearer");
    expect(await anonymous.text()).toContain("missing API key");
    const keyed = await fetch(`${running.baseUrl}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(keyed.status).toBe(200);
    expect(await keyed.text()).toContain("# TYPE ");
    expect((await fetch(`${running.baseUrl}/no-such-page`)).status).toBe(404);
  });

  it("METRICS_PUBLIC=true opens it to scrapers without a key", async () => {
    const open = await startServer({ API_KEYS: API_KEY, METRICS_PUBLIC: "true" }, { ready: false });
    try {
      const response = await fetch(`${open.baseUrl}/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain("# TYPE ");
    } finally {
      await open.app.close();
    }
  });
});

describe("HEALTH_PORT", () => {
  it("answers grpc.health.v1 in plaintext without a key, and nothing else", async () => {
    const port = running.server.healthPort;
    expect(port).toBeGreaterThan(0);
    expect((await healthCheck(port)).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const rpc = await fetch(`http://127.0.0.1:${port}/aetheros.tts.v1.TtsService/ListVoices`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
      body: "{}",
    });
    expect(rpc.status).toBe(404);
    for (const path of ["/metrics", "/", "/v1/models"]) expect((await fetch(`http://127.0.0.1:${port}${path}`)).status, path).toBe(404);
  });

  it("is off unless set", async () => {
    const plain = await startServer({}, { ready: false });
    try {
      expect(plain.server.healthPort).toBeUndefined();
    } finally {
      await plain.app.close();
    }
  });
});

describe("addresses remembered for rapid reset", () => {
  it("an IPv4 address (mapped ones too) stands for itself, an IPv6 address for its /64", () => {
    expect(clientKey("203.0.113.7")).toBe("203.0.113.7");
    expect(clientKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(clientKey("2001:db8:a:b:1:2:3:4")).toBe("2001:db8:a:b::/64");
    expect(clientKey("2001:db8:a:b::9")).toBe(clientKey("2001:0db8:000a:000b:ffff::1"));
    expect(clientKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("2001:db8:a:c::1")).not.toBe(clientKey("2001:db8:a:b::1"));
  });
});
