// StreamingSynthesize over WebSocket (GET /v1/stream), against the real server with the `ws`
// client: JSON and binary frames, the same audio as the gRPC call for the same messages,
// cancel, close codes naming the rule broken, API keys before the upgrade, 426 without one.

import { create, fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { expectSameSpeech } from "../audio/support.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  AudioEncoding,
  type StreamingSynthesizeRequest,
  StreamingSynthesizeRequestSchema,
  type StreamingSynthesizeResponse,
  StreamingSynthesizeResponseSchema,
} from "../../gen/aetheros/tts/v1/tts_pb.js";
import { NO_NOISE, ttsClient, waitForLog } from "../synthesis/support.js";
import { RequestQueue } from "../../clients/node/src/index.js";
import { type RunningServer, startServer } from "./running-server.js";

const CONFIG = { encoding: AudioEncoding.PCM, ...NO_NOISE };
const REPLY = "Sure, I can help with that. The train leaves at seven... Would you like me to book it?";
const KEY = "ws-key-5c1d8e2f7a9b3046";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function configMessage(): StreamingSynthesizeRequest {
  return create(StreamingSynthesizeRequestSchema, { request: { case: "config", value: { config: CONFIG } } });
}

function input(text: string, { contextId = "", end = false } = {}): StreamingSynthesizeRequest {
  return create(StreamingSynthesizeRequestSchema, { request: { case: "input", value: { text, contextId, endUtterance: end } } });
}

function cancel(contextId: string): StreamingSynthesizeRequest {
  return create(StreamingSynthesizeRequestSchema, { request: { case: "cancel", value: { contextId } } });
}

/** The reply as word-sized tokens, then the end of the utterance. */
function replyMessages(): StreamingSynthesizeRequest[] {
  const tokens = REPLY.match(/\s*\S+/g) ?? [];
  return [configMessage(), ...tokens.map((token) => input(token)), input("", { end: true })];
}

/** One WebSocket session: the responses as they come (and whether each frame was binary), and how it closed. */
class Client {
  readonly ws: WebSocket;
  readonly received: { message: StreamingSynthesizeResponse; binary: boolean }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(url: string, options: { binary?: boolean; protocols?: string[]; headers?: Record<string, string> } = {}) {
    this.ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
    this.ws.on("message", (data: Buffer, binary) => {
      const message = binary
        ? fromBinary(StreamingSynthesizeResponseSchema, data)
        : fromJsonString(StreamingSynthesizeResponseSchema, data.toString());
      this.received.push({ message, binary });
    });
    this.closed = new Promise((resolve) => this.ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  send(message: StreamingSynthesizeRequest, binary = false): void {
    this.ws.send(binary ? toBinary(StreamingSynthesizeRequestSchema, message) : toJsonString(StreamingSynthesizeRequestSchema, message));
  }

  events() {
    return this.received.map((r) => r.message.event);
  }

  audio(contextId = ""): Buffer {
    return Buffer.concat(this.events().flatMap((e) => (e.case === "chunk" && e.value.contextId === contextId ? [e.value.audio] : [])));
  }

  async until(what: string, check: () => boolean, limitMs = 120_000): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (!check()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting until ${what}; received ${JSON.stringify(this.events().map((e) => e.case))}`);
      await sleep(5);
    }
  }

  ended(contextId = "") {
    return this.events().find((e) => e.case === "utteranceEnd" && e.value.contextId === contextId);
  }
}

/** The status an upgrade was refused with, or "open". */
function upgradeStatus(url: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}): Promise<number | "open"> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers });
    ws.once("open", () => {
      ws.close(1000);
      resolve("open");
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once("error", (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

describe("StreamingSynthesize over WebSocket", () => {
  let running: RunningServer;
  let url: string;

  beforeAll(async () => {
    running = await startServer();
    url = `${running.baseUrl.replace("http", "ws")}/v1/stream`;
  }, 120_000);

  afterAll(async () => {
    await running?.app.close();
  });

  it("speaks JSON frames as they come, with the audio the gRPC call gives for the same messages", async () => {
    const client = new Client(url);
    await client.opened;
    const since = running.logLines.length;
    for (const message of replyMessages()) {
      client.send(message);
      await sleep(30);
    }
    await client.until("the utterance ended", () => client.ended() !== undefined);
    client.ws.close(1000);
    expect((await client.closed).code).toBe(1000);

    const cases = client.events().map((e) => e.case);
    expect(cases[0]).toBe("start");
    expect(cases).toContain("chunk");
    expect(cases.at(-1)).toBe("utteranceEnd");
    expect(client.received.every((r) => !r.binary)).toBe(true);

    // Logged and counted as the RPC.
    const line = await waitForLog(running, since, (l) => l.method === "aetheros.tts.v1.TtsService/StreamingSynthesize");
    expect(line.code).toBe("ok");
    const metrics = await (await fetch(`${running.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /grpc_server_handled_total\{grpc_type="bidi_stream",[^}]*grpc_method="StreamingSynthesize",grpc_code="OK"\} 1\n/,
    );

    const requests = new RequestQueue<StreamingSynthesizeRequest>();
    for (const message of replyMessages()) requests.push(message);
    requests.end();
    const overGrpc: Buffer[] = [];
    for await (const response of ttsClient(running).streamingSynthesize(requests)) {
      if (response.event.case === "chunk") overGrpc.push(Buffer.from(response.event.value.audio));
    }
    const audio = client.audio();
    expect(audio.length).toBeGreaterThan(0);
    expect(audio.equals(Buffer.concat(overGrpc))).toBe(true);
  }, 240_000);

  it("speaks an SSML document sent as JSON, with its marks, as Synthesize speaks it", async () => {
    const ssml = '<speak>Left <mark name="turn"/>turn here.<break time="200ms"/>Then stop.</speak>';
    const client = new Client(url);
    await client.opened;
    client.ws.send(JSON.stringify({ config: { config: { encoding: "AUDIO_ENCODING_PCM", noiseScale: 0, noiseW: 0 } } }));
    client.ws.send(JSON.stringify({ input: { ssml, endUtterance: true } }));
    await client.until("the utterance ended", () => client.ended() !== undefined);
    client.ws.close(1000);
    const end = client.ended();
    expect(end?.case === "utteranceEnd" && end.value.error).toBeUndefined();
    const unary = await ttsClient(running).synthesize({ ssml, config: CONFIG });
    expectSameSpeech(client.audio(), unary.audio);
    const timepoints = client.events().flatMap((e) => (e.case === "timestamps" ? e.value.timepoints : []));
    expect(timepoints.map(({ markName, seconds }) => ({ markName, seconds }))).toEqual(
      unary.timepoints.map(({ markName, seconds }) => ({ markName, seconds })),
    );
  }, 120_000);

  it("answers binary frames with binary frames", async () => {
    const client = new Client(url);
    await client.opened;
    client.send(configMessage(), true);
    client.send(input("Hello there.", { end: true }), true);
    await client.until("the utterance ended", () => client.ended() !== undefined);
    client.ws.close(1000);
    await client.closed;
    expect(client.events()[0]?.case).toBe("start");
    expect(client.audio().length).toBeGreaterThan(0);
    expect(client.received.every((r) => r.binary)).toBe(true);
  }, 120_000);

  it("cancels one utterance and goes on with the next", async () => {
    const client = new Client(url);
    await client.opened;
    client.send(configMessage());
    client.send(input(`${REPLY} ${REPLY} ${REPLY}`, { contextId: "long", end: true }));
    await client.until("the first chunk", () => client.events().some((e) => e.case === "chunk"));
    client.send(cancel("long"));
    client.send(input("Okay.", { contextId: "next", end: true }));
    await client.until("the second utterance ended", () => client.ended("next") !== undefined);
    client.ws.close(1000);
    await client.closed;
    const long = client.ended("long");
    expect(long?.case === "utteranceEnd" && long.value.cancelled).toBe(true);
    const next = client.ended("next");
    expect(next?.case === "utteranceEnd" && next.value.cancelled).toBe(false);
    expect(client.audio("next").length).toBeGreaterThan(0);
  }, 180_000);

  it("closes with 1008 and the rule broken when the first message is not config", async () => {
    const client = new Client(url);
    await client.opened;
    client.send(input("Hello."));
    const { code, reason } = await client.closed;
    expect(code).toBe(1008);
    expect(reason).toMatch(/^INVALID_ARGUMENT: config: the first message of a stream must carry config/);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
  });

  it("closes with 1008 on a frame that does not decode", async () => {
    const client = new Client(url);
    await client.opened;
    client.ws.send('{"config": {"config": {"encoding": "AUDIO_ENCODING_MP33"}}}');
    const { code, reason } = await client.closed;
    expect(code).toBe(1008);
    expect(reason).toMatch(/^INVALID_ARGUMENT: request: cannot be decoded/);
  });

  it("answers a plain GET with 426 Upgrade Required", async () => {
    const response = await fetch(`${running.baseUrl}/v1/stream`);
    expect(response.status).toBe(426);
    expect(response.headers.get("upgrade")).toBe("websocket");
  });
});

describe("StreamingSynthesize over WebSocket with API keys", () => {
  let running: RunningServer;
  let url: string;

  beforeAll(async () => {
    running = await startServer({ API_KEYS: KEY });
    url = `${running.baseUrl.replace("http", "ws")}/v1/stream`;
  }, 120_000);

  afterAll(async () => {
    await running?.app.close();
  });

  it("refuses the upgrade without a key or with a wrong one (401)", async () => {
    expect(await upgradeStatus(url)).toBe(401);
    expect(await upgradeStatus(url, { headers: { authorization: "Bearer wrong-key-0000000000" } })).toBe(401);
    expect(await upgradeStatus(url, { protocols: ["aetheros.tts.v1", "bearer.wrong-key-0000000000"] })).toBe(401);
  });

  it("takes the key as a bearer header or as a subprotocol, which it does not echo", async () => {
    expect(await upgradeStatus(url, { headers: { authorization: `Bearer ${KEY}` } })).toBe("open");
    const client = new Client(url, { protocols: ["aetheros.tts.v1", `bearer.${KEY}`] });
    await client.opened;
    expect(client.ws.protocol).toBe("aetheros.tts.v1");
    client.send(configMessage());
    client.send(input("Hi.", { end: true }));
    await client.until("the utterance ended", () => client.ended() !== undefined);
    client.ws.close(1000);
    expect((await client.closed).code).toBe(1000);
  }, 120_000);
});

describe("StreamingSynthesize over WebSocket at shutdown", () => {
  it("holds shutdown for an open session until the grace period, then closes it with 1011 UNAVAILABLE", async () => {
    const running = await startServer({ SHUTDOWN_GRACE_SECONDS: "1" });
    const client = new Client(`${running.baseUrl.replace("http", "ws")}/v1/stream`);
    await client.opened;
    client.send(configMessage());
    client.send(input("Hi.", { end: true }));
    await client.until("the utterance ended", () => client.ended() !== undefined);
    let serverClosed = false;
    const closing = running.app.close().then(() => (serverClosed = true));
    const { code, reason } = await client.closed;
    // Dropped without drain, the socket would close with 1006 and no reason.
    expect(code).toBe(1011);
    expect(reason).toBe("UNAVAILABLE: server shut down");
    expect(serverClosed).toBe(false);
    await closing;
  }, 120_000);
});
