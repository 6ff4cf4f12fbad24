// Security against the real server: API keys and admin keys over every protocol, keys
// kept out of the logs, TLS with ALPN h2 and http/1.1 on one port, the CORS allow-list,
// and voice ids that cannot name a file outside MODELS_DIR.

import { execFile } from "node:child_process";
import http from "node:http";
import http2 from "node:http2";
import { mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { Code, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import * as reflection from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { DEFAULT_CONFIG, DEFAULT_MODEL } from "../support/voice.js";
import { listening, startEntryPoint, type EntryPoint } from "./entry-point.js";
import { RequestQueue } from "../../clients/node/src/index.js";
import { callError, startServer, type RunningServer } from "./running-server.js";
import { PROTOCOLS, transportFor, type ProtocolName } from "./support.js";

const USER_KEY = "user-key-7f3a9c1e5b2d4680";
const OTHER_KEY = "user-key-second-0a1b2c3d4e5f";
const ADMIN_KEY = "admin-key-c4e1f9a2b7d3e8f6";
const WRONG_KEY = "user-key-7f3a9c1e5b2d4681"; // one character off

function withKey(header: string | undefined): Interceptor[] {
  return header === undefined
    ? []
    : [
        (next) => (req) => {
          req.header.set("authorization", header);
          return next(req);
        },
      ];
}

function tts(baseUrl: string, protocol: ProtocolName, authorization?: string) {
  return createClient(TtsService, transportFor(baseUrl, protocol, { interceptors: withKey(authorization) }));
}

describe("API keys", () => {
  let running: RunningServer;
  beforeAll(async () => {
    // These cases send ~100 wrong keys from one address; the failed-authentication budget has its own test.
    running = await startServer({
      API_KEYS: `${USER_KEY},${OTHER_KEY}`,
      ADMIN_API_KEYS: ADMIN_KEY,
      CACHE_ENABLED: "false",
      AUTH_FAILURES_PER_MINUTE: "1000",
    });
  });
  afterAll(() => running.app.close());

  describe.each(PROTOCOLS)("over %s", (protocol) => {
    it.each([
      ["no authorization header", undefined],
      ["an unknown key", `Bearer ${WRONG_KEY}`],
      ["another scheme", `Basic ${USER_KEY}`],
      ["the key without a scheme", USER_KEY],
      ["an empty bearer", "Bearer "],
    ])("refuses %s with UNAUTHENTICATED, on every TtsService method", async (_what, header) => {
      const client = tts(running.baseUrl, protocol, header);
      // Each call gets its rejection handler at once, so none is ever unhandled.
      const failures = [
        client.listVoices({}),
        client.health({}),
        client.getCacheStats({}),
        client.clearCache({}),
        client.synthesize({ text: "Hello." }),
        (async () => {
          for await (const _ of client.synthesizeStream({ text: "Hello." }));
        })(),
      ].map(callError);
      for (const failure of failures) {
        const error = await failure;
        expect(error.code).toBe(Code.Unauthenticated);
        expect(error.rawMessage).not.toContain(USER_KEY);
      }
    });

    it("serves every method but ClearCache to a user key, which gets PERMISSION_DENIED there", async () => {
      for (const key of [USER_KEY, OTHER_KEY]) {
        const client = tts(running.baseUrl, protocol, `Bearer ${key}`);
        expect((await client.listVoices({})).voices.length).toBeGreaterThan(0);
        await client.health({});
        await client.getCacheStats({});
        expect((await client.synthesize({ text: "Hello.", config: { encoding: AudioEncoding.PCM } })).audio.length).toBeGreaterThan(0);
        const denied = await callError(client.clearCache({}));
        expect(denied.code).toBe(Code.PermissionDenied);
        expect(denied.rawMessage).toBe("ClearCache needs an admin API key (ADMIN_API_KEYS)");
      }
    });

    it("lets an admin key call everything, ClearCache included", async () => {
      const client = tts(running.baseUrl, protocol, `bearer ${ADMIN_KEY}`);
      await client.clearCache({});
      await client.listVoices({});
    });
  });

  it("leaves grpc.health.v1 and reflection open without a key", async () => {
    const transport = createGrpcTransport({ baseUrl: running.baseUrl });
    expect((await createClient(Health, transport).check({ service: "" })).status).toBe(Status.SERVING);
    const requests = new RequestQueue<{ messageRequest: reflection.ServerReflectionRequest["messageRequest"] }>();
    requests.push({ messageRequest: { case: "listServices", value: "" } });
    requests.end();
    const answers = [];
    for await (const answer of createClient(reflection.ServerReflection, transport).serverReflectionInfo(requests)) answers.push(answer);
    expect(answers[0]?.messageResponse.case).toBe("listServicesResponse");
  });
});

describe("failed authentications", () => {
  let running: RunningServer;
  beforeAll(async () => {
    running = await startServer({ API_KEYS: USER_KEY, AUTH_FAILURES_PER_MINUTE: "5", METRICS_PUBLIC: "true" });
  });
  afterAll(() => running.app.close());

  it("refuses an address past AUTH_FAILURES_PER_MINUTE wrong keys outright, its right key too, and counts every refusal", async () => {
    const metric = async (reason: string) => {
      const text = await (await fetch(`${running.baseUrl}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith(`aetheros_tts_auth_failures_total{reason="${reason}"}`));
      return line === undefined ? 0 : Number(line.split(" ").pop());
    };
    const guessing = tts(running.baseUrl, "gRPC", `Bearer ${WRONG_KEY}`);
    const codes: Code[] = [];
    for (let attempt = 0; attempt < 20; attempt++) codes.push((await callError(guessing.listVoices({}))).code);
    expect(codes.slice(0, 5)).toEqual(Array(5).fill(Code.Unauthenticated));
    expect(codes.slice(5)).toEqual(Array(15).fill(Code.ResourceExhausted));
    const blocked = await callError(tts(running.baseUrl, "Connect", `Bearer ${USER_KEY}`).listVoices({}));
    expect(blocked.code).toBe(Code.ResourceExhausted);
    expect(blocked.rawMessage).toBe(
      "too many failed authentications from this address: at most 5 a minute (AUTH_FAILURES_PER_MINUTE); retry later",
    );
    expect(Number(blocked.metadata.get("retry-after-ms"))).toBeGreaterThan(0);
    // Probes are never refused.
    const health = createClient(Health, createGrpcTransport({ baseUrl: running.baseUrl }));
    expect((await health.check({ service: "" })).status).toBe(Status.SERVING);
    expect(await metric("invalid_key")).toBe(5);
    expect(await metric("address_blocked")).toBe(16);
  });
});

describe("ADMIN_API_KEYS alone", () => {
  it("turns keys on: admin keys call everything, calls without a key are refused", async () => {
    const running = await startServer({ ADMIN_API_KEYS: ADMIN_KEY }, { ready: false });
    try {
      running.health.markServing();
      expect((await callError(tts(running.baseUrl, "gRPC").listVoices({}))).code).toBe(Code.Unauthenticated);
      await tts(running.baseUrl, "gRPC", `Bearer ${ADMIN_KEY}`).clearCache({});
    } finally {
      await running.app.close();
    }
  });
});

describe("secrets in logs", () => {
  let entry: EntryPoint | undefined;
  afterEach(() => entry?.child.kill("SIGKILL"));

  it("writes no key, right or wrong, to any log line, at LOG_LEVEL=trace", async () => {
    entry = startEntryPoint({
      SERVICE_HOST: "127.0.0.1",
      SERVICE_PORT: "0",
      LOG_LEVEL: "trace",
      CACHE_ENABLED: "false",
      API_KEYS: `${USER_KEY},${OTHER_KEY}`,
      ADMIN_API_KEYS: ADMIN_KEY,
      MAX_REQUESTS_PER_MINUTE: "6",
    });
    const baseUrl = await listening(entry);
    await entry.logged("serving");
    for (const protocol of PROTOCOLS) {
      for (const header of [undefined, `Bearer ${USER_KEY}`, `Bearer ${WRONG_KEY}`, `Bearer ${ADMIN_KEY}`, `Basic ${OTHER_KEY}`]) {
        const client = tts(baseUrl, protocol, header);
        await client.listVoices({}).catch(() => {});
        await client.clearCache({}).catch(() => {});
        await client.synthesize({ text: "Hi.", config: { voice: "nope" } }).catch(() => {});
      }
    }
    entry.child.kill("SIGTERM");
    await entry.exited;

    const calls = entry.logLines.filter((line) => line.msg === "rpc");
    expect(calls.length).toBe(PROTOCOLS.length * 5 * 3);
    // The limit was reached too, so those lines are in there as well.
    expect(calls.map((line) => line.code)).toEqual(
      expect.arrayContaining(["ok", "unauthenticated", "permission_denied", "resource_exhausted", "not_found"]),
    );
    for (const line of entry.rawLines) {
      for (const key of [USER_KEY, OTHER_KEY, ADMIN_KEY, WRONG_KEY]) expect(line).not.toContain(key);
    }
  }, 120_000);

  it("does not show a malformed key when refusing the configuration", async () => {
    entry = startEntryPoint({ SERVICE_HOST: "127.0.0.1", SERVICE_PORT: "0", API_KEYS: `${USER_KEY},secret with spaces` });
    const { code, stderr } = await entry.exited;
    expect(code).toBe(1);
    expect(stderr).toContain('API_KEYS="<entry 2 hidden>" is invalid');
    expect(stderr).not.toContain("secret");
    expect(stderr).not.toContain(USER_KEY);
  });
});

describe("TLS", () => {
  let dir: string;
  let cert: Buffer;
  let running: RunningServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tts-tls-"));
    await promisify(execFile)("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ]);
    cert = await readFile(join(dir, "cert.pem"));
    running = await startServer({ TLS_CERT_FILE: join(dir, "cert.pem"), TLS_KEY_FILE: join(dir, "key.pem") }, { ready: false });
    running.health.markServing();
  });
  afterAll(async () => {
    await running.app.close();
    await rm(dir, { recursive: true, force: true });
  });
  const httpsUrl = () => running.baseUrl.replace("http:", "https:");

  it.each([
    ["gRPC", () => createGrpcTransport({ baseUrl: httpsUrl(), nodeOptions: { ca: cert } })],
    ["Connect over HTTP/2", () => createConnectTransport({ baseUrl: httpsUrl(), httpVersion: "2", nodeOptions: { ca: cert } })],
    ["Connect over HTTP/1.1", () => createConnectTransport({ baseUrl: httpsUrl(), httpVersion: "1.1", nodeOptions: { ca: cert } })],
    ["gRPC-Web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl: httpsUrl(), httpVersion: "1.1", nodeOptions: { ca: cert } })],
  ])("serves %s on the TLS port", async (_name, transport) => {
    expect((await createClient(Health, transport()).check({ service: "" })).status).toBe(Status.SERVING);
    expect((await createClient(TtsService, transport()).listVoices({})).defaultVoice).toBe("en_US-joe-medium");
  });

  it.each([
    [["h2", "http/1.1"], "h2"],
    [["http/1.1"], "http/1.1"],
  ])("negotiates ALPN %j as %s", async (offered, chosen) => {
    const socket = tls.connect({ host: "127.0.0.1", port: running.server.port, ca: cert, servername: "localhost", ALPNProtocols: offered });
    await new Promise((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    expect(socket.alpnProtocol).toBe(chosen);
    expect(socket.authorized).toBe(true);
    socket.destroy();
  });

  it("does not serve cleartext on the TLS port", async () => {
    const error = await callError(createClient(Health, createGrpcTransport({ baseUrl: running.baseUrl })).check({ service: "" }));
    expect([Code.Unavailable, Code.Canceled, Code.Internal, Code.Aborted]).toContain(error.code);
  });
});

describe("CORS", () => {
  const ORIGIN = "https://app.example.com";
  let running: RunningServer;
  beforeAll(async () => {
    running = await startServer({ CORS_ORIGINS: `${ORIGIN},http://localhost:5173` }, { ready: false });
    running.health.markServing();
  });
  afterAll(() => running.app.close());

  function request(
    method: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(`${running.baseUrl}/aetheros.tts.v1.TtsService/ListVoices`, { method, headers }, (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  it("answers an allowed origin's preflight with the Connect and gRPC-Web request headers and methods", async () => {
    const response = await request("OPTIONS", {
      origin: ORIGIN,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,connect-protocol-version,authorization,x-grpc-web",
    });
    expect(response.status).toBe(204);
    expect(response.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(response.headers["access-control-allow-methods"]).toBe("POST,GET");
    const allowed = String(response.headers["access-control-allow-headers"]).toLowerCase().split(",");
    expect(allowed).toEqual(
      expect.arrayContaining([
        "content-type",
        "connect-protocol-version",
        "connect-timeout-ms",
        "x-grpc-web",
        "grpc-timeout",
        "x-user-agent",
        "authorization",
        "x-request-id",
      ]),
    );
    expect(response.headers["access-control-max-age"]).toBe("7200");
  });

  it("exposes the gRPC-Web status, request id and retry hint headers on an allowed origin's call", async () => {
    const response = await request("POST", { origin: ORIGIN, "content-type": "application/json" }, "{}");
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ defaultVoice: "en_US-joe-medium" });
    expect(response.headers["access-control-allow-origin"]).toBe(ORIGIN);
    const exposed = String(response.headers["access-control-expose-headers"]).toLowerCase().split(",");
    expect(exposed).toEqual(
      expect.arrayContaining(["grpc-status", "grpc-message", "grpc-status-details-bin", "x-request-id", "retry-after-ms"]),
    );
  });

  it("gives an origin not on the list no access", async () => {
    const preflight = await request("OPTIONS", { origin: "https://evil.example.com", "access-control-request-method": "POST" });
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    const call = await request("POST", { origin: "https://evil.example.com", "content-type": "application/json" }, "{}");
    expect(call.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("answers preflights over HTTP/2 too", async () => {
    const session = http2.connect(running.baseUrl);
    try {
      const stream = session.request({
        ":method": "OPTIONS",
        ":path": "/aetheros.tts.v1.TtsService/ListVoices",
        origin: "http://localhost:5173",
        "access-control-request-method": "POST",
      });
      stream.end();
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("response", resolve));
      expect(headers[":status"]).toBe(204);
      expect(headers["access-control-allow-origin"]).toBe("http://localhost:5173");
    } finally {
      session.close();
    }
  });

  it("sends no CORS headers when CORS_ORIGINS is unset", async () => {
    const plain = await startServer({}, { ready: false });
    try {
      const response = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http
          .request(
            `${plain.baseUrl}/aetheros.tts.v1.TtsService/ListVoices`,
            { method: "OPTIONS", headers: { origin: ORIGIN, "access-control-request-method": "POST" } },
            resolve,
          )
          .on("error", reject)
          .end(),
      );
      response.resume();
      expect(response.headers["access-control-allow-origin"]).toBeUndefined();
    } finally {
      await plain.app.close();
    }
  });
});

describe("voice ids", () => {
  // root/models holds the default voice; root/outside.onnx is a valid voice outside MODELS_DIR.
  let root: string;
  let running: RunningServer;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "tts-voices-"));
    await mkdir(join(root, "models"));
    await symlink(DEFAULT_MODEL, join(root, "models", "en_US-joe-medium.onnx"));
    await symlink(DEFAULT_CONFIG, join(root, "models", "en_US-joe-medium.onnx.json"));
    await symlink(DEFAULT_MODEL, join(root, "outside.onnx"));
    await symlink(DEFAULT_CONFIG, join(root, "outside.onnx.json"));
    running = await startServer({ MODELS_DIR: join(root, "models") });
  });
  afterAll(async () => {
    await running.app.close();
    await rm(root, { recursive: true, force: true });
  });

  it.each([
    "../outside",
    "..",
    ".",
    "./en_US-joe-medium",
    "en_US-joe-medium/../../outside",
    "models/../outside",
    `${"/"}etc/passwd`,
    join("..", "models", "en_US-joe-medium"),
    "..\\outside",
    "%2e%2e%2foutside",
    "en_US-joe-medium\u0000",
    "en_US-joe-medium\n",
    " en_US-joe-medium",
    "~/outside",
    "x".repeat(129),
  ])("refuses voice %j with INVALID_ARGUMENT", async (voice) => {
    for (const protocol of PROTOCOLS) {
      const client = createClient(TtsService, transportFor(running.baseUrl, protocol));
      const error = await callError(client.synthesize({ text: "Hello.", config: { voice } }));
      expect(error.code, protocol).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toContain("is not a voice id");
    }
  });

  it("never lists, loads or reaches the voice outside MODELS_DIR", async () => {
    const client = createClient(TtsService, transportFor(running.baseUrl, "gRPC"));
    expect((await client.listVoices({})).voices.map((voice) => voice.id)).toEqual(["en_US-joe-medium"]);
    expect((await callError(client.synthesize({ text: "Hello.", config: { voice: "outside" } }))).code).toBe(Code.NotFound);
    expect((await client.health({})).loadedVoices).toEqual(["en_US-joe-medium"]);
  });

  it.each(["../outside", "/etc/passwd", "0/../1"])("answers speaker %j with NOT_FOUND naming the speakers", async (speaker) => {
    const client = createClient(TtsService, transportFor(running.baseUrl, "gRPC"));
    const error = await callError(client.synthesize({ text: "Hello.", config: { speaker } }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.rawMessage).toContain("config.speaker");
  });
});
