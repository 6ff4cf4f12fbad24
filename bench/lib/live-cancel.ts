/**
 * Live speech (issue 14): the time from cancelling an utterance to the synthesis slot it
 * held being free. An utterance of long sentences is sent whole; once its first AudioChunk
 * arrives (the next sentence is then synthesizing), the client waits CANCEL_DELAYS_MS[i] (in
 * turn over the runs, so the cancel lands at the start of the next sentence's synthesis, in
 * its phonemization, and in its inference windows alike), cancels it, and the time is taken
 * until the server's admission shows no synthesis running, polled every millisecond.
 *
 * The server runs in this process (src/server/app.ts, the composition `npm start` uses,
 * shipped limits, cache off) because the admission's count is what says a slot is free:
 * a probe call that needs a slot would, with the shipped two workers, get the other one at
 * once, and with one worker would add its own synthesis to the figure. The slot is given
 * back at the first window boundary after the cancel (the engine checks the signal when a
 * window arrives); the worker thread is told to stop then, and is free once the window it
 * may already have started ends, which nothing outside the engine's pool can see. Shared
 * by bench/run.ts and bench/live-cancel.bench.ts.
 */
import { pino } from "pino";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { RequestQueue } from "@aetheros/tts-client";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { loadConfig } from "../../src/config/index.js";
import { createApp, type App } from "../../src/server/app.js";
import { cancelRequest, configRequest, sleep, textRequest } from "./live-input.js";
import { LONG_SENTENCE } from "./texts.js";
import { median } from "./stats.js";

/** Four long sentences (LONG_SENTENCE with its first letter up): each several decoder windows. */
const sentence = `${LONG_SENTENCE[0]!.toUpperCase()}${LONG_SENTENCE.slice(1)}.`;
export const CANCEL_TEXT = Array.from({ length: 4 }, () => sentence).join(" ");
/** From the first chunk to the cancel, run after run: a decoder window of these sentences takes a few hundred ms. */
export const CANCEL_DELAYS_MS = [0, 80, 160, 240, 320];

export interface LiveCancelSample {
  iteration: number;
  /** From the first AudioChunk to sending the cancel. */
  delayMs: number;
  /** Syntheses running when the cancel was sent (1: the utterance's next sentence). */
  runningAtCancel: number;
  /** From sending the cancel to admission.stats().running === 0. */
  slotFreeMs: number;
  /** From sending the cancel to the UtteranceEnd (cancelled) on the client. */
  acknowledgedMs: number;
  /** AudioChunks of a sentence after the first: audio of the cancelled synthesis (none should come). */
  laterSentenceChunks: number;
}

export interface LiveCancelResults {
  /** The in-process server's settings that matter here. */
  server: string;
  chars: number;
  samples: LiveCancelSample[];
}

export interface InProcessServer {
  app: App;
  baseUrl: string;
  settings: string;
}

/** The service with its shipped limits (no variable set but the port, host and cache), in this process. */
export async function startInProcessServer(): Promise<InProcessServer> {
  const config = loadConfig({ SERVICE_HOST: "127.0.0.1", SERVICE_PORT: "0", CACHE_ENABLED: "false" });
  const app = await createApp(config, pino({ level: "silent" }));
  const port = await app.listen();
  await app.ready();
  return {
    app,
    baseUrl: `http://127.0.0.1:${port}`,
    settings: `in process, shipped limits (MAX_CONCURRENT_REQUESTS ${config.maxConcurrentRequests}, ONNX_INTRA_OP_THREADS ${config.onnxIntraOpThreads}), cache off`,
  };
}

/** `runs` cancels after one warm-up, each on a stream of its own, `settle` before each. */
export async function measureLiveCancel(
  server: InProcessServer,
  runs: number,
  settle: () => Promise<unknown>,
): Promise<LiveCancelSample[]> {
  const client = createClient(TtsService, createGrpcTransport({ baseUrl: server.baseUrl }));
  const { admission } = server.app;
  const samples: LiveCancelSample[] = [];
  for (let iteration = -1; iteration < runs; iteration++) {
    await settle();
    if (admission.stats().running !== 0) throw new Error("a synthesis is still running before the run");
    const requests = new RequestQueue<ReturnType<typeof configRequest>>();
    requests.push(configRequest());
    requests.push(textRequest("long", CANCEL_TEXT, true));
    let cancelAt: number | undefined;
    let acknowledgedAt: number | undefined;
    let laterSentenceChunks = 0;
    const delayMs = CANCEL_DELAYS_MS[(iteration + 1) % CANCEL_DELAYS_MS.length]!;
    let slotFree: Promise<number> | undefined;
    let runningAtCancel = 0;
    for await (const response of client.streamingSynthesize(requests, { timeoutMs: 120_000 })) {
      const event = response.event;
      if (event.case === "chunk" && event.value.sentenceIndex > 0) laterSentenceChunks++;
      if (event.case === "chunk" && cancelAt === undefined) {
        // The next sentence is admitted as soon as the first one's chunks are sent.
        for (let waited = 0; admission.stats().running === 0 && waited < 1000; waited++) await sleep(1);
        await sleep(delayMs);
        runningAtCancel = admission.stats().running;
        cancelAt = performance.now();
        requests.push(cancelRequest("long"));
        slotFree = (async () => {
          while (admission.stats().running !== 0) await sleep(1);
          return performance.now();
        })();
      }
      if (event.case === "utteranceEnd") {
        acknowledgedAt = performance.now();
        if (!event.value.cancelled) throw new Error("the utterance ended before it was cancelled: make CANCEL_TEXT longer");
        requests.end();
      }
    }
    if (cancelAt === undefined || acknowledgedAt === undefined || !slotFree) throw new Error("no audio came before the stream ended");
    const slotFreeMs = (await slotFree) - cancelAt;
    if (iteration >= 0)
      samples.push({ iteration, delayMs, runningAtCancel, slotFreeMs, acknowledgedMs: acknowledgedAt - cancelAt, laterSentenceChunks });
  }
  return samples;
}

export function summarizeLiveCancel(samples: readonly LiveCancelSample[]): {
  slotFreeMs: number;
  acknowledgedMs: number;
  maxSlotFreeMs: number;
  n: number;
  withoutRunning: number;
} {
  return {
    slotFreeMs: median(samples.map((s) => s.slotFreeMs)),
    acknowledgedMs: median(samples.map((s) => s.acknowledgedMs)),
    maxSlotFreeMs: Math.max(...samples.map((s) => s.slotFreeMs)),
    n: samples.length,
    withoutRunning: samples.filter((s) => s.runningAtCancel === 0).length,
  };
}

/** Issue 14: a cancelled utterance's slot free within 50 ms. */
export const LIVE_CANCEL_GOAL_MS = 50;
