/**
 * Live speech (issue 14): many StreamingSynthesize streams on one replica with the shipped
 * limits, each shaped like an agent's conversation: a short sentence sent token by token
 * (TOKEN_GAP_MS apart, end_utterance with the last), then idle while the other side talks,
 * then the next, TURN_PERIOD_MS apart on average. The server is a child process (npm
 * start's entry point), so its RSS is its own. Every stream is its own HTTP/2 connection
 * (one client each, as agents would be). Two ways to be told apart by the admission, whose
 * queue has a share per client (MAX_QUEUE_PER_CLIENT): as shipped, every stream comes from
 * 127.0.0.1 and is the same client, as behind a proxy; with API_KEYS set (streamKeys), each
 * stream sends its own key and is a client of its own. Shared by bench/run.ts and
 * bench/live-streams.bench.ts.
 */
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { RequestQueue } from "@aetheros/tts-client";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { configRequest, llmTokens, sleep, TOKEN_GAP_MS, textRequest } from "./live-input.js";
import { memoryStatus } from "./procs.js";
import { median, p95 } from "./stats.js";

export const STREAM_LEVELS = [10, 50, 200];
export const TURNS = 4;
/** Mean time between the starts of two turns of one stream (a turn is drawn in 0.5-1.5x this). */
export const TURN_PERIOD_MS = 5000;

/** Short sentences of an agent; stream i, turn t says SHORT_SENTENCES[(i + t) % n]. */
const SHORT_SENTENCES = [
  "Sure, I can do that for you right now.",
  "Your appointment is booked for Tuesday at ten.",
  "The weather looks clear for the rest of the week.",
  "I have sent the invoice to your email address.",
  "Let me check that order and get back to you.",
  "The store opens at nine and closes at six.",
];

/** API_KEYS for a service whose streams each have a key of their own: one key per stream of the largest level. */
export const streamKeys = (count: number): string[] => Array.from({ length: count }, (_, i) => `live-bench-stream-key-${i}`);

export interface LiveStreamsLevel {
  /** "one client" (every stream from 127.0.0.1, no key) or "a key per stream". */
  clients: string;
  streams: number;
  /** Sentences sent, and those whose utterance ended spoken (not cancelled, with audio). */
  sentences: number;
  spoken: number;
  /** Last token (with end_utterance) to first AudioChunk, per spoken sentence. */
  firstAudioMs: number[];
  /** Streams that ended with an error, by gRPC code name and the limit its message names. */
  errors: Record<string, number>;
  resourceExhausted: number;
  /** The server's RSS before the level, and its highest sampled during it. */
  rssBeforeBytes: number;
  rssPeakBytes: number;
  wallMs: number;
}

export interface LiveStreamsResults {
  service: string;
  turns: number;
  turnPeriodMs: number;
  tokenGapMs: number;
  levels: LiveStreamsLevel[];
}

/** One agent's stream: TURNS sentences, then the request side closes. */
async function agent(
  baseUrl: string,
  key: string | undefined,
  index: number,
  random: () => number,
  level: Pick<LiveStreamsLevel, "firstAudioMs" | "errors"> & { spoken: number },
): Promise<void> {
  const authorize: Interceptor = (next) => (request) => {
    if (key) request.header.set("authorization", `Bearer ${key}`);
    return next(request);
  };
  const client = createClient(TtsService, createGrpcTransport({ baseUrl, interceptors: [authorize] }));
  const requests = new RequestQueue<ReturnType<typeof configRequest>>();
  requests.push(configRequest());
  const lastTokenAt = new Map<string, number>();
  const heard = new Set<string>();
  let ended = 0;
  /** Resolves once every turn's utterance ended, or the stream failed. */
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let failed = false;
  const sending = (async () => {
    await Promise.race([sleep(random() * TURN_PERIOD_MS), finished]);
    for (let turn = 0; turn < TURNS && !failed; turn++) {
      const turnStarted = performance.now();
      const contextId = `turn-${turn}`;
      const tokens = llmTokens(SHORT_SENTENCES[(index + turn) % SHORT_SENTENCES.length]!);
      for (const [t, token] of tokens.entries()) {
        if (t > 0) await sleep(TOKEN_GAP_MS);
        requests.push(textRequest(contextId, token, t === tokens.length - 1));
      }
      lastTokenAt.set(contextId, performance.now());
      const period = TURN_PERIOD_MS * (0.5 + random());
      if (turn < TURNS - 1) await Promise.race([sleep(Math.max(0, period - (performance.now() - turnStarted))), finished]);
    }
    await finished;
    requests.end();
  })();
  try {
    for await (const response of client.streamingSynthesize(requests, { timeoutMs: 300_000 })) {
      const event = response.event;
      if (event.case === "chunk" && !heard.has(event.value.contextId)) {
        heard.add(event.value.contextId);
        level.firstAudioMs.push(performance.now() - lastTokenAt.get(event.value.contextId)!);
      }
      if (event.case === "utteranceEnd") {
        if (!event.value.cancelled && (event.value.summary?.audioBytes ?? 0) > 0) level.spoken++;
        if (++ended === TURNS) finish();
      }
    }
    if (ended < TURNS) level.errors["ended early"] = (level.errors["ended early"] ?? 0) + 1;
  } catch (error) {
    const limit = error instanceof ConnectError ? /\(([A-Z_, ]+)\)/.exec(error.rawMessage)?.[1] : undefined;
    const code = error instanceof ConnectError ? `${Code[error.code]}${limit ? ` (${limit})` : ""}` : String(error);
    level.errors[code] = (level.errors[code] ?? 0) + 1;
  } finally {
    failed = ended < TURNS;
    finish();
    requests.end();
  }
  await sending;
}

/** Runs the levels one after another on the same server (pid: its process, for RSS); `keys`: one per stream. */
export async function measureLiveStreams(
  baseUrl: string,
  pid: number,
  keys: readonly string[] | undefined,
  levels: readonly number[],
  random: () => number,
  log: (message: string) => void,
): Promise<LiveStreamsLevel[]> {
  const out: LiveStreamsLevel[] = [];
  for (const streams of levels) {
    const level = { firstAudioMs: [] as number[], errors: {} as Record<string, number>, spoken: 0 };
    const rssBeforeBytes = memoryStatus(pid).rssBytes;
    let rssPeakBytes = rssBeforeBytes;
    const sampler = setInterval(() => {
      rssPeakBytes = Math.max(rssPeakBytes, memoryStatus(pid).rssBytes);
    }, 250);
    const started = performance.now();
    await Promise.all(Array.from({ length: streams }, (_, i) => agent(baseUrl, keys?.[i], i, random, level)));
    clearInterval(sampler);
    const result: LiveStreamsLevel = {
      clients: keys ? "a key per stream" : "one client",
      streams,
      sentences: streams * TURNS,
      spoken: level.spoken,
      firstAudioMs: level.firstAudioMs,
      errors: level.errors,
      resourceExhausted: Object.entries(level.errors)
        .filter(([code]) => code.startsWith("ResourceExhausted"))
        .reduce((n, [, count]) => n + count, 0),
      rssBeforeBytes,
      rssPeakBytes: Math.max(rssPeakBytes, memoryStatus(pid).rssBytes),
      wallMs: performance.now() - started,
    };
    log(describeLevel(result));
    out.push(result);
    await sleep(1000);
  }
  return out;
}

export function describeLevel(l: LiveStreamsLevel): string {
  const errors = Object.entries(l.errors)
    .map(([code, n]) => `${n} ${code}`)
    .join(", ");
  return (
    `${l.streams} streams (${l.clients}): ${l.spoken}/${l.sentences} sentences spoken${l.spoken === l.sentences ? " (all)" : ""}, ` +
    `last token to first audio p50 ${median(l.firstAudioMs).toFixed(0)} ms, p95 ${p95(l.firstAudioMs).toFixed(0)} ms, ` +
    `${l.resourceExhausted} RESOURCE_EXHAUSTED${errors ? ` (streams failed: ${errors})` : ""}, ` +
    `server RSS ${(l.rssBeforeBytes / 1e6).toFixed(0)} MB before, ${(l.rssPeakBytes / 1e6).toFixed(0)} MB peak, ${(l.wallMs / 1000).toFixed(1)} s`
  );
}
