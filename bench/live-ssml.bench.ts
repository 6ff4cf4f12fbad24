/*
 * An SSML document sent over StreamingSynthesize against SynthesizeStream of the same
 * document: milliseconds from sending it to its first audio, and to its last, interleaved, on
 * a child-process service with the shipped defaults (intra 1, 2 workers; cache off). Not a
 * test; run with
 *   node --import tsx bench/live-ssml.bench.ts        (BENCH_ITERATIONS runs, default 5)
 */
import { create } from "@bufbuild/protobuf";
import { fileURLToPath } from "node:url";
import { RequestQueue } from "@aetheros/tts-client";
import { AudioEncoding, type StreamingSynthesizeRequest, StreamingSynthesizeRequestSchema } from "../gen/aetheros/tts/v1/tts_pb.js";
import { configRequest, sleep } from "./lib/live-input.js";
import { startService } from "./lib/service.js";
import { median } from "./lib/stats.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = Number(process.env.BENCH_ITERATIONS ?? 5);
const DOCUMENT =
  '<speak><s>Your order <mark name="order"/>has shipped.</s><break time="300ms"/>' +
  '<s>It arrives on <say-as interpret-as="date" format="mdy">10/12/2025</say-as>, before noon.</s>' +
  '<s><prosody pitch="+2st">Thanks for waiting!</prosody></s></speak>';

const service = await startService("default (intra 1, 2 workers)", ROOT, { intraOpThreads: 1, workers: 2, cacheEnabled: false });
const live: { first: number; last: number }[] = [];
const stream: { first: number; last: number }[] = [];
try {
  for (let run = 0; run < RUNS; run++) {
    // One stream per run, opened before the clock starts, as a live session is.
    const requests = new RequestQueue<StreamingSynthesizeRequest>();
    requests.push(configRequest());
    const responses = service.client.streamingSynthesize(requests)[Symbol.asyncIterator]();
    await responses.next(); // start
    const sent = performance.now();
    requests.push(create(StreamingSynthesizeRequestSchema, { request: { case: "input", value: { ssml: DOCUMENT, endUtterance: true } } }));
    requests.end();
    let first = 0;
    for (let next = await responses.next(); !next.done; next = await responses.next()) {
      if (next.value.event.case === "chunk" && first === 0) first = performance.now() - sent;
    }
    live.push({ first, last: performance.now() - sent });
    await sleep(100);

    const started = performance.now();
    let streamFirst = 0;
    for await (const message of service.client.synthesizeStream({
      ssml: DOCUMENT,
      config: { encoding: AudioEncoding.PCM, useCache: false },
    })) {
      if (message.event.case === "chunk" && message.event.value.audio.length > 0 && streamFirst === 0)
        streamFirst = performance.now() - started;
    }
    stream.push({ first: streamFirst, last: performance.now() - started });
    await sleep(100);
  }
  const show = (name: string, values: { first: number; last: number }[]) =>
    `${name}: first audio ${median(values.map((v) => v.first)).toFixed(0)} ms, all audio ${median(values.map((v) => v.last)).toFixed(0)} ms`;
  console.log(`${show("StreamingSynthesize ssml input", live)}; ${show("SynthesizeStream ssml", stream)} (medians of ${RUNS} runs)`);
} finally {
  await service.stop();
}
