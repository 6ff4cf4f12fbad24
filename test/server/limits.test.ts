// Configurable limits against the real server: request size (MAX_REQUEST_BYTES) over
// every protocol, MAX_TEXT_LENGTH, concurrent streams per HTTP/2 connection, and the
// HTTP/2 keepalive PING and idle timeout.

import http2 from "node:http2";
import net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { HealthCheckRequestSchema } from "../../gen/grpc/health/v1/health_pb.js";
import { callError, startServer, type RunningServer } from "./running-server.js";
import { PROTOCOLS, settlesWithin, ttsOver } from "./support.js";

let running: RunningServer | undefined;
const sessions: http2.ClientHttp2Session[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) session.destroy();
  await running?.app.close();
  running = undefined;
});

describe("MAX_REQUEST_BYTES", () => {
  it.each(PROTOCOLS)("refuses a larger request with RESOURCE_EXHAUSTED over %s, and reads a smaller one", async (protocol) => {
    running = await startServer({ MAX_REQUEST_BYTES: "2048" }, { ready: false });
    running.health.markServing();
    const tts = ttsOver(running, protocol);
    const tooLarge = await callError(tts.synthesize({ text: "a".repeat(3000) }));
    expect(tooLarge.code).toBe(Code.ResourceExhausted);
    expect(tooLarge.rawMessage).toMatch(/2048/);
    // 1,900 bytes are read and validated: the speed is what is wrong with them.
    const read = await callError(tts.synthesize({ text: "a".repeat(1900), config: { speed: 9 } }));
    expect(read.code).toBe(Code.InvalidArgument);
  });
});

describe("MAX_TEXT_LENGTH", () => {
  it("refuses a longer text with INVALID_ARGUMENT naming the limit, counting characters not bytes", async () => {
    running = await startServer({ MAX_TEXT_LENGTH: "20" });
    const tts = ttsOver(running, "gRPC");
    const error = await callError(tts.synthesize({ text: "This text is too long." }));
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe("text: 22 characters is too long; allowed 1 to 20 (MAX_TEXT_LENGTH)");
    // Twenty characters of two to four UTF-8 bytes each are allowed.
    const response = await tts.synthesize({ text: "Größe: ünf Grüße 😀!!" });
    expect(response.textLength).toBe(20);
  });
});

/** A raw HTTP/2 connection to the server. */
async function connect(): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(running!.baseUrl);
  sessions.push(session);
  session.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    session.once("remoteSettings", () => resolve());
    session.once("error", reject);
  });
  return session;
}

/** A grpc.health.v1 Check on the session; resolves with grpc-status. */
function check(session: http2.ClientHttp2Session): Promise<string> {
  const message = toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "" }));
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  const stream = session.request({
    ":method": "POST",
    ":path": "/grpc.health.v1.Health/Check",
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.end(frame);
  return new Promise((resolve, reject) => {
    let status = "";
    stream.on("response", (headers) => (status = String(headers["grpc-status"] ?? "")));
    stream.on("trailers", (trailers) => (status = String(trailers["grpc-status"] ?? status)));
    stream.on("data", () => {});
    stream.on("end", () => resolve(status));
    stream.on("error", reject);
  });
}

/** A grpc.health.v1 Watch held open: a stream that lasts until closed. */
function watch(session: http2.ClientHttp2Session): http2.ClientHttp2Stream {
  const message = toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "" }));
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  const stream = session.request({
    ":method": "POST",
    ":path": "/grpc.health.v1.Health/Watch",
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.end(frame);
  stream.on("data", () => {});
  stream.on("error", () => {});
  return stream;
}

describe("HTTP2_MAX_CONCURRENT_STREAMS", () => {
  it("announces the limit and holds a stream beyond it until another one ends", async () => {
    running = await startServer({ HTTP2_MAX_CONCURRENT_STREAMS: "2" }, { ready: false });
    const session = await connect();
    expect(session.remoteSettings.maxConcurrentStreams).toBe(2);

    const open = [watch(session), watch(session)];
    await Promise.all(open.map((stream) => new Promise((resolve) => stream.once("response", resolve))));
    const third = check(session);
    expect(await settlesWithin(third, 1500)).toBe(false);
    open[0]!.close();
    expect(await third).toBe("0");
    open[1]!.close();
  });

  it("allows 100 streams per connection by default", async () => {
    running = await startServer({}, { ready: false });
    const session = await connect();
    expect(session.remoteSettings.maxConcurrentStreams).toBe(100);
  });
});

describe("HTTP/2 keepalive", () => {
  it("PINGs every HTTP2_KEEPALIVE_INTERVAL_SECONDS and drops a connection that does not answer within the timeout", async () => {
    running = await startServer(
      { HTTP2_KEEPALIVE_INTERVAL_SECONDS: "1", HTTP2_KEEPALIVE_TIMEOUT_SECONDS: "1", HTTP2_IDLE_TIMEOUT_SECONDS: "0" },
      { ready: false },
    );
    // A peer that speaks just enough HTTP/2 to open the connection, then goes silent.
    const socket = net.connect(running.server.port, "127.0.0.1");
    const frameTypes: number[] = [];
    let received = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 9 && received.length >= 9 + received.readUIntBE(0, 3)) {
        frameTypes.push(received[3]!);
        received = received.subarray(9 + received.readUIntBE(0, 3));
      }
    });
    const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(performance.now())));
    await new Promise((resolve) => socket.once("connect", resolve));
    const opened = performance.now();
    socket.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));

    expect(await settlesWithin(closed, 10_000)).toBe(true);
    const closedAt = await closed;
    const PING = 6;
    expect(frameTypes).toContain(PING);
    // One interval until the PING, one timeout until the drop; timers are not exact.
    expect(closedAt - opened).toBeGreaterThan(1500);
  });

  it("keeps a connection whose client answers the PINGs", async () => {
    running = await startServer(
      { HTTP2_KEEPALIVE_INTERVAL_SECONDS: "1", HTTP2_KEEPALIVE_TIMEOUT_SECONDS: "1", HTTP2_IDLE_TIMEOUT_SECONDS: "0" },
      { ready: false },
    );
    const session = await connect();
    let pings = 0;
    session.on("ping", () => pings++);
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(session.closed || session.destroyed).toBe(false);
    expect(await check(session)).toBe("0");
  });
});

describe("HTTP2_IDLE_TIMEOUT_SECONDS", () => {
  it("closes a connection with no stream for that long, and not one with a stream open", async () => {
    running = await startServer({ HTTP2_IDLE_TIMEOUT_SECONDS: "1" }, { ready: false });
    const idle = await connect();
    expect(await check(idle)).toBe("0");
    const busy = await connect();
    const held = watch(busy);
    const idleClosed = new Promise((resolve) => idle.once("close", resolve));
    const goaway = new Promise((resolve) => idle.once("goaway", resolve));

    expect(await settlesWithin(Promise.all([goaway, idleClosed]), 10_000)).toBe(true);
    expect(busy.closed || busy.destroyed).toBe(false);
    expect(held.closed).toBe(false);
    held.close();
    // Once its last stream is over, the busy one is idle too.
    expect(await settlesWithin(new Promise((resolve) => busy.once("close", resolve)), 10_000)).toBe(true);
  });
});
