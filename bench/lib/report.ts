/**
 * Figures, goals and the BENCHMARKS.md text, all derived from one results file, so a report
 * can be rendered again from bench/results/latest.json (`npm run bench -- --report`).
 */
import { LIVE_CANCEL_GOAL_MS, summarizeLiveCancel } from "./live-cancel.js";
import { LIVE_TTFA_GOAL, summarizeLiveTtfa } from "./live-ttfa.js";
import { OPENAI_ROUTE_GOAL, summarizeOpenAiRoute } from "./openai-route.js";
import type { Results } from "./results.js";
import { mean, median, p95, sum, summarize as stat, type Summary as Stat } from "./stats.js";

/** Which floor has the same thread count as each latency subject. */
const FLOOR_OF: Record<string, string> = {
  grpc: "floor",
  "grpc-identity": "floor",
  "grpc-default": "floor-1t",
  engine: "floor",
  piper: "floor",
  floor: "floor",
  "floor-1t": "floor-1t",
  sherpa: "floor",
  "piper-http": "floor",
};

const SUBJECT_LABEL: Record<string, string> = {
  grpc: "service over gRPC (intra 2, 1 worker)",
  "grpc-identity": "… same service, client offering no gzip (acceptCompression: [])",
  "grpc-default": "service over gRPC, shipped defaults (intra 1, 2 workers)",
  engine: "engine in process (intra 2)",
  piper: "Piper 1.8.0 Python API (onnxruntime default threads)",
  floor: "floor: bare InferenceSession.run (intra 2)",
  "floor-1t": "floor: bare InferenceSession.run (intra 1)",
  "grpc-stream": "service SynthesizeStream, first AudioChunk (intra 2)",
  "grpc-first-sentence": "service Synthesize, first sentence alone (intra 2)",
  "engine-stream": "engine in process, first piece of the paragraph",
  "piper-first": "Piper synthesize(), first chunk of the paragraph",
  "piper-first-sentence": "Piper synthesize_wav, first sentence alone",
  "floor-first-piece": "floor: first piece's InferenceSession.run (intra 2)",
  sherpa: "sherpa-onnx-node 2 threads (own process, timed there)",
  "piper-http": "Piper http_server (Flask, HTTP/1.1 loopback, client time)",
};

/** Issue 13's time-to-first-audio goals: service (shipped defaults) ÷ Piper's first chunk, by TTFA_TEXTS key. */
const TTFA_GOALS: Record<string, number> = { "sentence-50": 0.6, "sentence-300": 0.3, "good-morning": 0.8 };
/** Issue 13: throughput at these levels within 5% of the previous run or better. */
const THROUGHPUT_KEEP = 0.95;
/** Issue 12: unary cache hit over loopback, @aetheros/tts-client, 100 characters. */
const CACHE_HIT_GOAL_MS = 3;
const CACHE_SERVER_GOAL_MS = 0.5;

export interface Goal {
  id: string;
  goal: string;
  measured: string;
  /** undefined: a figure to report, with no target to meet. */
  met: boolean | undefined;
  why?: string;
}

const verdict = (g: Goal): string => (g.met === undefined ? "reported" : g.met ? "**met**" : "**missed**");

export interface Summary {
  latency: Record<number, Record<string, Stat & { rtf: number }>>;
  rtf: Record<string, number>;
  stages: Record<
    number,
    {
      phonemize: number;
      inference: number;
      pcm: number;
      encodeWav: number;
      engine: number;
      floor: number;
      grpc: number;
      server: number;
      transport: number;
      serverOverFloor: number;
      workerOverhead: number;
      piperPhonemize: number;
      piper: number;
      gzip: number;
      gunzip: number;
      wavBytes: number;
      gzipRatio: number;
    }
  >;
  ttfa: Record<string, Stat>;
  ttfaStages: { phonemizeParagraph: number; piperPhonemizeParagraph: number; drain: number; startMessage: number };
  cache: {
    inProcess: Stat;
    hitPath: Stat;
    loopback: Stat;
    loopbackIdentity: Stat;
    loopbackServer: Stat;
    loopbackByChars: Record<number, { default: Stat; identity: Stat }>;
    miss: number[];
    /** Schema 2: every client's hits by text size, and the server-reported time of hits by size (all clients). */
    byClient: Record<string, Record<number, Stat>>;
    serverByChars: Record<number, Stat>;
    ghz?: Stat;
    grpcurl?: Stat;
  };
  throughput: Record<string, Record<number, { audioPerSecond: number; rounds: number[]; medianRequestMs: number; p95RequestMs: number }>>;
  singleStream: { piper: number; floor: number; floor1t: number };
  /** Median bare-floor ms per text and onnxruntime build. */
  ortBuilds: Record<number, Record<string, number>>;
  memory: { defaultVoice: number; threeVoices: number; ready: number; piper: number };
  load: {
    foreignMean: number;
    foreignP95: number;
    foreignMax: number;
    stealMean: number;
    byPhase: Record<string, { foreignMean: number; seconds: number }>;
    top: Array<[string, number]>;
  };
  goals: Goal[];
  recommendation: string[];
}

const ms = (value: number): string =>
  Number.isFinite(value)
    ? value >= 100
      ? value.toFixed(0)
      : value >= 10
        ? value.toFixed(1)
        : value >= 1
          ? value.toFixed(2)
          : value.toFixed(3)
    : "n/a";
const x = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}x` : "n/a");
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;
const cores = (value: number): string => value.toFixed(2);

export function summarize(results: Results): Summary {
  const latency: Summary["latency"] = {};
  const rtf: Summary["rtf"] = {};
  for (const subject of results.latency.subjects) {
    const samples = results.latency.samples.filter((s) => s.subject === subject);
    rtf[subject] = sum(samples.map((s) => s.ms)) / 1000 / sum(samples.map((s) => s.audioSeconds));
    for (const { chars } of results.latency.texts) {
      const mine = samples.filter((s) => s.chars === chars);
      (latency[chars] ??= {})[subject] = { ...stat(mine.map((s) => s.ms)), rtf: median(mine.map((s) => s.ms / 1000 / s.audioSeconds)) };
    }
  }

  const stages: Summary["stages"] = {};
  for (const { chars } of results.latency.texts) {
    const of = (subject: string) => results.latency.samples.filter((s) => s.chars === chars && s.subject === subject);
    const engine = of("engine");
    const grpc = of("grpc");
    const stage = (pick: (s: NonNullable<(typeof engine)[number]["stages"]>) => number) => median(engine.map((s) => pick(s.stages!)));
    const server = median(grpc.map((s) => s.serverMs!));
    const inference = stage((s) => s.inferenceMs);
    const floor = latency[chars]!.floor!.median;
    const engineMedian = latency[chars]!.engine!.median;
    const gz = results.cache.gzip.filter((g) => g.chars === chars);
    stages[chars] = {
      gzip: median(gz.map((g) => g.gzipMs)),
      gunzip: median(gz.map((g) => g.gunzipMs)),
      wavBytes: median(gz.map((g) => g.bytes)),
      gzipRatio: median(gz.map((g) => g.gzipBytes / g.bytes)),
      phonemize: stage((s) => s.phonemizeMs),
      inference,
      pcm: stage((s) => s.pcmMs),
      encodeWav: stage((s) => s.encodeWavMs),
      engine: engineMedian,
      floor,
      grpc: latency[chars]!.grpc!.median,
      server,
      transport: median(grpc.map((s) => s.ms - s.serverMs!)),
      serverOverFloor: server - floor,
      workerOverhead: inference - floor,
      piperPhonemize: median(results.phonemize.samples.filter((s) => s.chars === chars).map((s) => s.piper)),
      piper: latency[chars]!.piper!.median,
    };
  }

  const ttfa: Summary["ttfa"] = {};
  for (const subject of new Set(results.ttfa.samples.map((s) => s.subject)))
    ttfa[subject] = stat(results.ttfa.samples.filter((s) => s.subject === subject).map((s) => s.ms));
  const ttfaOf = (subject: string) => results.ttfa.samples.filter((s) => s.subject === subject);
  const ttfaStages = {
    phonemizeParagraph: median(ttfaOf("engine-stream").map((s) => s.phonemizeMs!)),
    piperPhonemizeParagraph: median(results.phonemize.samples.filter((s) => s.chars === results.ttfa.paragraphChars).map((s) => s.piper)),
    drain: median(ttfaOf("grpc-stream").map((s) => s.drainMs!)),
    startMessage: median(ttfaOf("grpc-stream").map((s) => s.startMs!)),
  };

  // "All sizes" means the latency texts; the long text's hits are reported on their own.
  const latencyChars = new Set(results.latency.texts.map((t) => t.chars));
  const hits = (client: string, chars?: number) =>
    results.cache.loopback.filter((s) => s.client === client && (chars === undefined ? latencyChars.has(s.chars) : s.chars === chars));
  const byClient: Summary["cache"]["byClient"] = {};
  const serverByChars: Summary["cache"]["serverByChars"] = {};
  for (const sample of results.cache.loopback) (byClient[sample.client] ??= {})[sample.chars] ??= stat([]);
  for (const [client, bySize] of Object.entries(byClient))
    for (const chars of Object.keys(bySize).map(Number)) bySize[chars] = stat(hits(client, chars).map((s) => s.ms));
  for (const chars of new Set(results.cache.loopback.map((s) => s.chars)))
    serverByChars[chars] = stat(results.cache.loopback.filter((s) => s.chars === chars).map((s) => s.serverMs));
  const ghz = results.cache.ghz && "ms" in results.cache.ghz ? stat(results.cache.ghz.ms) : undefined;
  const grpcurl = results.cache.grpcurl && "ms" in results.cache.grpcurl ? stat(results.cache.grpcurl.ms) : undefined;
  const loopbackByChars: Summary["cache"]["loopbackByChars"] = {};
  for (const { chars } of results.latency.texts)
    loopbackByChars[chars] = {
      default: stat(hits("default", chars).map((s) => s.ms)),
      identity: stat(hits("identity", chars).map((s) => s.ms)),
    };
  const cache: Summary["cache"] = {
    inProcess: stat(results.cache.inProcessMs),
    hitPath: stat(results.cache.hitPathMs),
    loopback: stat(hits("default").map((s) => s.ms)),
    loopbackIdentity: stat(hits("identity").map((s) => s.ms)),
    loopbackServer: stat(results.cache.loopback.map((s) => s.serverMs)),
    loopbackByChars,
    miss: results.cache.loopbackMissMs,
    byClient,
    serverByChars,
    ...(ghz ? { ghz } : {}),
    ...(grpcurl ? { grpcurl } : {}),
  };

  const throughput: Summary["throughput"] = {};
  for (const sample of results.throughput.samples) {
    const level = ((throughput[sample.config] ??= {})[sample.concurrency] ??= {
      audioPerSecond: 0,
      rounds: [],
      medianRequestMs: 0,
      p95RequestMs: 0,
    });
    level.rounds.push(sample.audioSeconds / (sample.wallMs / 1000));
  }
  for (const [config, levels] of Object.entries(throughput)) {
    for (const [level, entry] of Object.entries(levels)) {
      const samples = results.throughput.samples.filter((s) => s.config === config && s.concurrency === Number(level));
      entry.audioPerSecond = sum(samples.map((s) => s.audioSeconds)) / (sum(samples.map((s) => s.wallMs)) / 1000);
      const requests = samples.flatMap((s) => s.requestMs);
      entry.medianRequestMs = median(requests);
      entry.p95RequestMs = p95(requests);
    }
  }
  const singleStream = { piper: 1 / rtf.piper!, floor: 1 / rtf.floor!, floor1t: 1 / rtf["floor-1t"]! };

  const reading = (prefix: string) => results.memory.readings.find((r) => r.label.startsWith(prefix))?.rssBytes ?? Number.NaN;
  const memory = {
    ready: reading("serving"),
    defaultVoice: reading("default voice"),
    threeVoices: reading("three voices"),
    piper: results.memory.piper.rssBytes,
  };

  const foreign = results.load.samples.map((s) => s.foreignCores);
  const byPhase: Summary["load"]["byPhase"] = {};
  for (const phase of new Set(results.load.samples.map((s) => s.phase))) {
    const samples = results.load.samples.filter((s) => s.phase === phase);
    byPhase[phase] = { foreignMean: mean(samples.map((s) => s.foreignCores)), seconds: samples.length * (results.load.intervalMs / 1000) };
  }
  const load: Summary["load"] = {
    foreignMean: mean(foreign),
    foreignP95: p95(foreign),
    foreignMax: foreign.length ? Math.max(...foreign) : Number.NaN,
    stealMean: mean(results.load.samples.map((s) => s.stealFraction)),
    byPhase,
    top: Object.entries(results.load.foreignByCommand)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6),
  };

  const ortBuilds: Summary["ortBuilds"] = {};
  for (const { chars } of results.latency.texts) {
    ortBuilds[chars] = Object.fromEntries(
      results.ortBuilds.builds.map((b) => [
        b,
        median(results.ortBuilds.samples.filter((o) => o.chars === chars && o.build === b).map((o) => o.ms)),
      ]),
    );
  }
  const partial: Omit<Summary, "goals" | "recommendation"> = {
    latency,
    rtf,
    stages,
    ttfa,
    ttfaStages,
    cache,
    throughput,
    singleStream,
    ortBuilds,
    memory,
    load,
  };
  return { ...partial, goals: goals(results, partial), recommendation: recommend(results, partial) };
}

function goals(results: Results, s: Omit<Summary, "goals" | "recommendation">): Goal[] {
  const out: Goal[] = [];
  const l50 = s.latency[50]!;
  const st = s.stages[50]!;
  const grpc50 = l50.grpc!.median;
  const breakdown =
    `50-character medians: phonemize ${ms(st.phonemize)} ms (Piper ${ms(st.piperPhonemize)} ms), inference through the worker pool ${ms(st.inference)} ms ` +
    `(bare floor ${ms(st.floor)} ms, so ${ms(st.workerOverhead)} ms of worker hand-off), float→int16 ${ms(st.pcm)} ms, WAV encode ${ms(st.encodeWav)} ms, ` +
    `server-reported generation_time_ms ${ms(st.server)} ms (floor ${ms(st.floor)} ms), transport ${ms(st.transport)} ms (client time − server time), ` +
    (gzipped(results)
      ? `of which gzip of the ${(st.wavBytes / 1000).toFixed(0)} kB WAV response alone costs ${ms(st.gzip)} ms + ${ms(st.gunzip)} ms gunzip (it shrinks to ${(st.gzipRatio * 100).toFixed(0)}%): ` +
        "the server compresses every response for a client that offers gzip, as connect-node's and grpc-js's clients do by default"
      : `with the ${(st.wavBytes / 1000).toFixed(0)} kB WAV sent uncompressed`);
  const loadPhase = (phase: string): string => {
    const p = s.load.byPhase[phase];
    return p && p.foreignMean > 0.1
      ? ` Other processes used ${cores(p.foreignMean)} of ${results.machine.cores} cores on average during this scenario.`
      : "";
  };

  const vsPiper = grpc50 / l50.piper!.median;
  const floorVsPiper = l50.floor!.median / l50.piper!.median;
  out.push({
    id: "latency-vs-piper",
    goal: "50-char uncached latency ≤ 0.9x Piper",
    measured: `${ms(grpc50)} ms vs Piper ${ms(l50.piper!.median)} ms = ${x(vsPiper)}`,
    met: vsPiper <= 0.9,
    why:
      vsPiper <= 0.9
        ? undefined
        : `${breakdown}. The bare onnxruntime-node run alone is ${x(floorVsPiper)} Piper's whole call (Node onnxruntime ${results.versions.onnxruntimeNode}, Python onnxruntime ${results.versions.piper.onnxruntime}, both on ${results.machine.cores} threads)` +
          (floorVsPiper > 0.9
            ? ", so 0.9x is out of reach for this voice on this machine without a faster inference itself; the service's own overheads are listed above"
            : "") +
          "." +
          (results.ortBuilds.builds.includes(`python ${results.versions.onnxruntimeNode}`) && results.ortBuilds.builds.length > 2
            ? ` The same bare run per onnxruntime build (50 characters): ${Object.entries(s.ortBuilds[50] ?? {})
                .map(([b, v]) => `${b} ${ms(v)} ms`)
                .join(", ")}; see the build table in the profile for whether the binding or the version makes the difference.`
            : "") +
          loadPhase("latency"),
  });
  const vsFloor = grpc50 / l50.floor!.median;
  out.push({
    id: "latency-vs-floor",
    goal: "50-char uncached latency ≤ 1.10x floor",
    measured: `${ms(grpc50)} ms vs floor ${ms(l50.floor!.median)} ms = ${x(vsFloor)}`,
    met: vsFloor <= 1.1,
    why:
      vsFloor <= 1.1
        ? undefined
        : `${ms(grpc50 - l50.floor!.median)} ms above the floor; the engine in process is ${x(l50.engine!.median / l50.floor!.median)} the floor, so the excess is the server and the transport. ${breakdown}. ` +
          `The same service through a client that offers no gzip: ${ms(l50["grpc-identity"]?.median ?? Number.NaN)} ms = ${x((l50["grpc-identity"]?.median ?? Number.NaN) / l50.floor!.median)} the floor.${loadPhase("latency")}`,
  });

  const stream = s.ttfa["grpc-stream"]!.median;
  const first = s.ttfa["grpc-first-sentence"]!.median;
  out.push({
    id: "ttfa",
    goal: "time to first audio (~1,000 chars) ≤ 1.2x first-sentence latency",
    measured: `${ms(stream)} ms vs ${ms(first)} ms = ${x(stream / first)}`,
    met: stream / first <= 1.2,
    why:
      stream / first <= 1.2
        ? undefined
        : `The stream phonemizes the whole ${results.ttfa.paragraphChars}-character paragraph before its first inference (${ms(s.ttfaStages.phonemizeParagraph)} ms in process; Piper ${ms(s.ttfaStages.piperPhonemizeParagraph)} ms), ` +
          `then runs the first piece (floor ${ms(s.ttfa["floor-first-piece"]!.median)} ms); the engine in process reaches its first piece in ${ms(s.ttfa["engine-stream"]!.median)} ms; StreamStart arrives after ${ms(s.ttfaStages.startMessage)} ms.${loadPhase("time to first audio")}`,
  });

  if (results.openaiRoute?.samples.length) {
    const route = summarizeOpenAiRoute(results.openaiRoute.samples);
    const met = route.ratio < OPENAI_ROUTE_GOAL;
    out.push({
      id: "openai-route-ttfb",
      goal: `OpenAI route time to first byte < ${OPENAI_ROUTE_GOAL}x total for a ~30 s reply (POST /v1/audio/speech, ${results.openaiRoute.format})`,
      measured: `${ms(route.firstByteMs)} ms vs ${ms(route.totalMs)} ms = ${x(route.ratio)} (${results.openaiRoute.chars} characters, ${route.audioSeconds.toFixed(1)} s of audio; headers at ${ms(route.headersMs)} ms; service \`${results.openaiRoute.service}\`, medians of ${results.openaiRoute.samples.length})`,
      met,
      why: met
        ? undefined
        : `The first byte is the first sentence's audio, sent once its inference is done; the total is every sentence's.${loadPhase("openai route")}`,
    });
  }

  out.push({
    id: "cache-in-process",
    goal: "cache hit < 1 ms in process (AudioCache memory hit)",
    measured: `median ${ms(s.cache.inProcess.median)} ms, p95 ${ms(s.cache.inProcess.p95)} ms`,
    met: s.cache.inProcess.median < 1,
    why: s.cache.inProcess.median < 1 ? undefined : `AudioCache.get of a ${results.cache.entryBytes}-byte entry.${loadPhase("cache")}`,
  });
  out.push({
    id: "cache-loopback",
    goal:
      results.schema === 1
        ? "cache hit < 3 ms over loopback (unary gRPC, second identical call)"
        : "cache hit over loopback, connect-node's gRPC transport as is (Node's 64 KiB windows), 50–200 characters",
    measured: `median ${ms(s.cache.loopback.median)} ms, p95 ${ms(s.cache.loopback.p95)} ms`,
    // Schema 2 sets the goal on the project's own client (issue 12); this one is reported.
    met: results.schema === 1 ? s.cache.loopback.median < 3 : undefined,
    why:
      s.cache.loopback.median < 3
        ? undefined
        : `The server finds the entry in ${ms(s.cache.loopbackServer.median)} ms (server-reported; it phonemizes the text to build the key: planSpeech + cacheKey + get takes ${ms(s.cache.hitPath.median)} ms in process for 100 characters). ` +
          (gzipped(results)
            ? "The rest is mostly the response's gzip compression:"
            : "The server sent the audio uncompressed; the rest is the transport itself:") +
          ` the same hits from a client that does not offer gzip take ${ms(s.cache.loopbackIdentity.median)} ms (p95 ${ms(s.cache.loopbackIdentity.p95)} ms). ` +
          `By size, gzip-offering client vs identity: ${Object.entries(s.cache.loopbackByChars)
            .map(([c, v]) => `${c} chars ${ms(v.default.median)} vs ${ms(v.identity.median)} ms`)
            .join(", ")}; ` +
          `gzip + gunzip of those WAV files alone: ${Object.entries(s.stages)
            .map(([_c, st]) => `${ms(st.gzip + st.gunzip)} ms (${(st.wavBytes / 1000).toFixed(0)} kB)`)
            .join(", ")}. ` +
          (gzipped(results)
            ? "Fix (src/server/server.ts): serve without compression for audio, e.g. `acceptCompression: []` in connectNodeAdapter, or a compressMinBytes above the audio sizes."
            : ""
          ).trim() +
          loadPhase("cache"),
  });

  const def = s.throughput[DEFAULT_NAME(results)] ?? {};
  const c1 = def[1]?.audioPerSecond ?? Number.NaN;
  const c2 = def[2]?.audioPerSecond ?? Number.NaN;
  const c8 = def[8]?.audioPerSecond ?? Number.NaN;
  const best = Math.max(...[1, 2, 4].map((c) => def[c]?.audioPerSecond ?? Number.NaN));
  const scaleUp = c2 / c1;
  out.push({
    id: "throughput-scaling",
    goal: "throughput at concurrency 2 ≥ 1.7x concurrency 1 (MAX_CONCURRENT_REQUESTS=2, ONNX_INTRA_OP_THREADS=1)",
    measured: `${c2.toFixed(1)} vs ${c1.toFixed(1)} audio-s/s = ${x(scaleUp)}`,
    met: scaleUp >= 1.7,
    why:
      scaleUp >= 1.7
        ? undefined
        : `Two single-threaded inferences need both cores to themselves.${loadPhase("throughput")} Per-request median latency goes from ${ms(def[1]!.medianRequestMs)} ms at 1 to ${ms(def[2]!.medianRequestMs)} ms at 2.`,
  });
  out.push({
    id: "throughput-collapse",
    goal: "no collapse at concurrency 8 (≥ 0.9x the best of 1, 2 and 4)",
    measured: `${c8.toFixed(1)} audio-s/s vs best ${best.toFixed(1)} = ${x(c8 / best)}`,
    met: c8 / best >= 0.9,
    why: c8 / best >= 0.9 ? undefined : `p95 request latency at 8: ${ms(def[8]!.p95RequestMs)} ms.${loadPhase("throughput")}`,
  });
  out.push({
    id: "memory",
    goal: "RSS < 300 MB with the default voice (shipped defaults: 2 workers, intra 1)",
    measured: `${mb(s.memory.defaultVoice)} (serving: ${mb(s.memory.ready)}; three voices: ${mb(s.memory.threeVoices)}; Piper process: ${mb(s.memory.piper)})`,
    met: s.memory.defaultVoice < 300e6,
    why: s.memory.defaultVoice < 300e6 ? undefined : memoryWhy(results, s),
  });
  if (results.schema === 2) out.push(...latencyPeerGoals(results, s, loadPhase), ...ttfaGoals(results, s, loadPhase));
  if (results.schema === 2)
    out.push(...throughputGoals(results, s, loadPhase), ...memoryRows(results, s), ...cacheGoals(results, s, loadPhase));
  out.push(...liveGoals(results, loadPhase));
  return out;
}

/** Issue 14: live speech over StreamingSynthesize (absent from runs before it was measured). */
function liveGoals(results: Results, loadPhase: LoadNote): Goal[] {
  const out: Goal[] = [];
  const ttfa = results.liveTtfa;
  if (ttfa?.samples.length) {
    const label = {
      "next-sentence": `a sentence followed ${ttfa.tokenGapMs} ms later by the next`,
      "end-utterance": "a reply's last sentence, then end_utterance",
    };
    for (const c of summarizeLiveTtfa(ttfa.samples)) {
      const met = c.ratio <= LIVE_TTFA_GOAL;
      out.push({
        id: `live-ttfa-${c.case}`,
        goal: `live: last token to first audio ≤ ${LIVE_TTFA_GOAL}x SynthesizeStream's first audio of the sentence alone (${label[c.case]})`,
        measured: `${ms(c.liveMs)} ms vs ${ms(c.unaryMs)} ms = ${x(c.ratio)} (tokens ${ttfa.tokenGapMs} ms apart, ${c.n} sentences of ${ttfa.replies.length} replies; service \`${ttfa.service}\`, cache off, interleaved, medians)`,
        met,
        why: met
          ? undefined
          : `${c.case === "next-sentence" ? `The sentence's end is certain only once the next token arrives, ${ttfa.tokenGapMs} ms after its last; then` : "Then"} it goes through the Synthesize path whole, after the sentence before it: an utterance's sentences are synthesized one after another, and ${c.behindPrevious} of ${c.n} got the previous sentence's first audio only after their own last token${c.behindPrevious > 0 ? ` (median ${ms(c.behindPreviousMs)} ms after)` : ""}.${loadPhase("live ttfa")}`,
      });
    }
  }
  const cancel = results.liveCancel;
  if (cancel?.samples.length) {
    const c = summarizeLiveCancel(cancel.samples);
    const met = c.slotFreeMs < LIVE_CANCEL_GOAL_MS;
    out.push({
      id: "live-cancel",
      goal: `live: cancel to the synthesis slot free < ${LIVE_CANCEL_GOAL_MS} ms (admission running 0, polled every 1 ms)`,
      measured: `median ${ms(c.slotFreeMs)} ms, max ${ms(c.maxSlotFreeMs)} ms; UtteranceEnd (cancelled) at ${ms(c.acknowledgedMs)} ms (${c.n} cancels 0-320 ms after the first chunk of ${cancel.chars} characters of long sentences; ${cancel.server})`,
      met,
      why: met
        ? undefined
        : `The cancel is acknowledged at once, but the slot is given back only when the inference running in the worker ends: a stream's window (128 frames through the flow and the decoder) or a sentence's encoder run cannot be stopped, so a cancel that lands in one waits for its end.${loadPhase("live cancel")}`,
    });
  }
  for (const level of results.liveStreams?.levels ?? []) {
    const met = level.spoken === level.sentences;
    const errors = Object.entries(level.errors)
      .map(([code, n]) => `${n} ${code}`)
      .join(", ");
    out.push({
      id: `live-streams-${level.streams}-${level.clients === "one client" ? "one-client" : "keys"}`,
      goal: `live: ${level.streams} streams (${level.clients}), a short sentence every ~${(results.liveStreams!.turnPeriodMs / 1000).toFixed(0)} s each, shipped limits: every sentence spoken`,
      measured:
        `${level.spoken}/${level.sentences} spoken; last token to first audio p50 ${ms(median(level.firstAudioMs))} ms, p95 ${ms(p95(level.firstAudioMs))} ms; ` +
        `${level.resourceExhausted} RESOURCE_EXHAUSTED; server RSS ${mb(level.rssBeforeBytes)} before, ${mb(level.rssPeakBytes)} peak`,
      met,
      why: met
        ? undefined
        : `Streams ended with ${errors || "no error"}: a sentence refused by the admission ends its whole stream.${loadPhase("live streams")}`,
    });
  }
  return out;
}

type Partial = Omit<Summary, "goals" | "recommendation">;
type LoadNote = (phase: string) => string;

/** Issue 13: uncached latency with the shipped defaults ≤ 0.9x Piper's API, below sherpa-onnx-node and Piper's http_server. */
function latencyPeerGoals(results: Results, s: Partial, loadPhase: LoadNote): Goal[] {
  const peers = results.peers ?? {};
  return results.latency.texts.map(({ chars }) => {
    const l = s.latency[chars]!;
    const def = l["grpc-default"]!.median;
    const piper = l.piper!.median;
    const peer = (name: string, label: string) => {
      const m = l[name]?.median;
      return m === undefined
        ? { ok: false, text: `${label} did not run (${peers[name]?.unavailable ?? "not a subject of this run"})` }
        : { ok: def < m, text: `${label} ${ms(m)} ms (${x(m / piper)})` };
    };
    const sherpa = peer("sherpa", "sherpa-onnx-node");
    const http = peer("piper-http", "http_server");
    const ratio = def / piper;
    const met = ratio <= 0.9 && sherpa.ok && http.ok;
    const server = median(results.latency.samples.filter((x) => x.subject === "grpc-default" && x.chars === chars).map((x) => x.serverMs!));
    return {
      id: `latency-peers-${chars}`,
      goal: `${chars}-char uncached WAV, shipped defaults ≤ 0.9x Piper's API and below sherpa-onnx-node and Piper's http_server`,
      measured: `${ms(def)} ms = ${x(ratio)} Piper's API (${ms(piper)} ms); ${sherpa.text}; ${http.text}`,
      met,
      why: met
        ? undefined
        : `The shipped defaults run one request's inference on one intra-op thread (2 workers): the bare onnxruntime run on one thread alone takes ${ms(l["floor-1t"]!.median)} ms (${x(l["floor-1t"]!.median / piper)} Piper's whole call, which uses ${results.versions.piper.cpu_count} threads), on two threads ${ms(l.floor!.median)} ms. ` +
          `The server reports ${ms(server)} ms (generation_time_ms), the rest (${ms(def - server)} ms) is the transport. The service with intra 2 and 1 worker takes ${ms(l.grpc!.median)} ms (${x(l.grpc!.median / piper)}).${loadPhase("latency")}`,
    };
  });
}

/** Issue 13: first audio over SynthesizeStream (shipped defaults) against Piper's first synthesize() chunk of the same text. */
function ttfaGoals(results: Results, s: Partial, loadPhase: LoadNote): Goal[] {
  return (results.ttfaTexts ?? []).map((t) => {
    const stream = s.ttfa[`stream-default:${t.key}`];
    const latency = s.ttfa[`stream-latency:${t.key}`];
    const piper = s.ttfa[`piper-first:${t.key}`];
    const goal = TTFA_GOALS[t.key] ?? Number.NaN;
    const ratio = (stream?.median ?? Number.NaN) / (piper?.median ?? Number.NaN);
    const audio = (subject: string) =>
      median(results.ttfa.samples.filter((x) => x.subject === subject).map((x) => x.audioSeconds ?? Number.NaN));
    return {
      id: `ttfa-${t.key}`,
      goal: `time to first audio, ${t.label} (${t.chars} chars), ≤ ${goal}x Piper's first chunk`,
      measured: `${ms(stream?.median ?? Number.NaN)} ms vs Piper ${ms(piper?.median ?? Number.NaN)} ms = ${x(ratio)} (intra 2, 1 worker: ${x((latency?.median ?? Number.NaN) / (piper?.median ?? Number.NaN))})`,
      met: ratio <= goal,
      why:
        ratio <= goal
          ? undefined
          : `Piper's first chunk is the whole first sentence's audio (${audio(`piper-first:${t.key}`).toFixed(2)} s of sound; the text has ${t.sentences} sentence${t.sentences === 1 ? "" : "s"} as the engine plans it); ` +
            `the service's first AudioChunk holds ${audio(`stream-default:${t.key}`).toFixed(2)} s of sound (the sentence's first 16 latent frames) and leaves after the sentence's encoder run (text encoder and duration predictor, one run per sentence: ${ms(s.ttfa[`encoder:${t.key}`]?.median ?? Number.NaN)} ms on bare sessions with the service's threads) and that window's flow and decoder runs (${ms(s.ttfa[`first-window:${t.key}`]?.median ?? Number.NaN)} ms), ${x(((s.ttfa[`encoder:${t.key}`]?.median ?? Number.NaN) + (s.ttfa[`first-window:${t.key}`]?.median ?? Number.NaN)) / (piper?.median ?? Number.NaN))} Piper's first chunk before any transport. ` +
            `Peak-normalized (NORMALIZATION_SENTENCE_PEAK, Piper's level) it waits for the whole sentence: ${ms(s.ttfa[`stream-peak:${t.key}`]?.median ?? Number.NaN)} ms.${loadPhase("time to first audio")}`,
    };
  });
}

/** Issue 13: throughput with the shipped defaults at concurrency 2 and 8 within 5% of the previous run, or better. */
function throughputGoals(results: Results, s: Partial, loadPhase: LoadNote): Goal[] {
  const name = DEFAULT_NAME(results);
  const base = results.baseline;
  return [2, 8].map((level) => {
    const now = s.throughput[name]?.[level]?.audioPerSecond ?? Number.NaN;
    const before = base?.throughput[name]?.[level];
    const ratio = before === undefined ? Number.NaN : now / before;
    return {
      id: `throughput-vs-previous-${level}`,
      goal: `throughput at concurrency ${level}, shipped defaults, ≥ ${THROUGHPUT_KEEP}x the previous run`,
      measured:
        before === undefined
          ? `${now.toFixed(1)} audio-s/s; no previous run to compare with`
          : `${now.toFixed(1)} vs ${before.toFixed(1)} audio-s/s = ${x(ratio)} (previous: ${base!.mode} run of ${base!.startedAt.slice(0, 10)}, commit ${base!.gitCommit})`,
      met: before === undefined ? undefined : ratio >= THROUGHPUT_KEEP,
      why:
        before === undefined || ratio >= THROUGHPUT_KEEP
          ? undefined
          : `Other processes used ${cores(base!.foreignCores)} cores on average during the previous run; in this run:${loadPhase("throughput") || " less than 0.1 cores."}` +
            (base!.mode !== results.mode || base!.throughputBatch !== results.settings.throughputBatch
              ? ` The runs differ in kind (${base!.mode}, batch of ${base!.throughputBatch} vs ${results.mode}, batch of ${results.settings.throughputBatch}), so the comparison is rough.`
              : ""),
    };
  });
}

/** Issue 13: RSS of the shipped defaults against the previous run and the Piper process (figures, no target). */
function memoryRows(results: Results, s: Partial): Goal[] {
  const base = results.baseline;
  const longest = results.memory.readings.find((r) => r.label.includes("MAX_TEXT_LENGTH"));
  const vs = (now: number, before: number | undefined) =>
    before === undefined || !Number.isFinite(before) ? "" : `, previous run ${mb(before)} (${x(now / before)})`;
  return [
    {
      id: "rss-serving",
      goal: "RSS serving, shipped defaults",
      measured: `${mb(s.memory.ready)}${vs(s.memory.ready, base?.memory.serving)}; Piper process ${mb(s.memory.piper)}`,
      met: undefined,
    },
    {
      id: "rss-after-load",
      goal: "RSS after load (8 syntheses of 200 characters, 2 at a time)",
      measured: `${mb(s.memory.defaultVoice)}${vs(s.memory.defaultVoice, base?.memory.afterLoad)}; Piper process ${mb(s.memory.piper)}`,
      met: undefined,
    },
    {
      id: "rss-longest-sentence",
      goal: `RSS after the longest allowed sentence (${results.memory.longestSentenceChars ?? "MAX_TEXT_LENGTH"} characters, one sentence)`,
      measured: longest ? `${mb(longest.rssBytes)} (peak ${mb(longest.hwmBytes)}); Piper process ${mb(s.memory.piper)}` : "not measured",
      met: undefined,
    },
  ];
}

/** Issue 12: cache hits over loopback per client, and the server-side part of a hit on short and long texts. */
function cacheGoals(results: Results, s: Partial, loadPhase: LoadNote): Goal[] {
  const out: Goal[] = [];
  const c = s.cache;
  const at = (client: string, chars: number) => c.byClient[client]?.[chars];
  const own = at("tts-client", 100);
  const refusals = (client: string) =>
    (results.cache.refused ?? [])
      .filter((r) => r.client === client)
      .map((r) => `refused the ${r.chars.toLocaleString("en")}-character hit (${r.code}: ${r.message.slice(0, 160)})`)
      .join("; ");
  const others = ["default", "identity", "grpc-js"]
    .filter((k) => at(k, 100))
    .map((k) => `${results.cache.clients?.[k]?.label ?? k} ${ms(at(k, 100)!.median)} ms`)
    .join(", ");
  out.push({
    id: "cache-hit-own-client",
    goal: `cache hit over loopback < ${CACHE_HIT_GOAL_MS} ms (unary gRPC, 100-character WAV, @aetheros/tts-client with ${((results.cache.clients?.["tts-client"]?.windowBytes ?? 0) / 2 ** 20).toFixed(0)} MiB HTTP/2 windows)`,
    measured: own ? `median ${ms(own.median)} ms, p95 ${ms(own.p95)} ms (n=${own.n})` : "not measured",
    met: own ? own.median < CACHE_HIT_GOAL_MS : false,
    why:
      own && own.median < CACHE_HIT_GOAL_MS
        ? undefined
        : `The server reports ${ms(c.serverByChars[100]?.median ?? Number.NaN)} ms for a 100-character hit (generation_time_ms); the rest is the transport and both ends' gRPC. Other clients on the same hits: ${others}.${loadPhase("cache")}`,
  });
  const grpcJs = at("grpc-js", 100);
  out.push({
    id: "cache-hit-grpc-js",
    goal: "cache hit over loopback, @grpc/grpc-js with its defaults (100-character WAV)",
    measured: `${grpcJs ? `median ${ms(grpcJs.median)} ms, p95 ${ms(grpcJs.p95)} ms` : "not measured"}${refusals("grpc-js") ? `; ${refusals("grpc-js")}` : ""}`,
    met: undefined,
  });
  const ghz = results.cache.ghz;
  out.push({
    id: "cache-hit-ghz",
    goal: "cache hit over loopback, ghz with its defaults (one connection, one caller, 100-character WAV)",
    measured:
      c.ghz && ghz && "version" in ghz
        ? `median ${ms(c.ghz.median)} ms, p95 ${ms(c.ghz.p95)} ms (ghz ${ghz.version}, n=${c.ghz.n})${refusals("ghz") ? `; ${refusals("ghz")}` : ""}`
        : `not measured (${ghz && "unavailable" in ghz ? ghz.unavailable : "no ghz"})`,
    met: undefined,
  });
  out.push({
    id: "cache-hit-grpcurl",
    goal: "cache hit, one grpcurl process per call (start, reflection, call; 100-character WAV)",
    measured: c.grpcurl
      ? `median ${ms(c.grpcurl.median)} ms, p95 ${ms(c.grpcurl.p95)} ms (n=${c.grpcurl.n})`
      : `not measured (${results.cache.grpcurl && "unavailable" in results.cache.grpcurl ? results.cache.grpcurl.unavailable : "no grpcurl"})`,
    met: undefined,
  });
  const long = Math.max(...Object.keys(c.serverByChars).map(Number));
  const s50 = c.serverByChars[50];
  const sLong = c.serverByChars[long];
  const ratio = (sLong?.median ?? Number.NaN) / (s50?.median ?? Number.NaN);
  const met = (s50?.median ?? Number.NaN) < CACHE_SERVER_GOAL_MS && (sLong?.median ?? Number.NaN) < CACHE_SERVER_GOAL_MS && ratio <= 2;
  out.push({
    id: "cache-hit-server",
    goal: `server-side part of a hit (generation_time_ms) < ${CACHE_SERVER_GOAL_MS} ms for 50 and ${long.toLocaleString("en")} characters, the long one within 2x of the short`,
    measured: `50 chars: median ${ms(s50?.median ?? Number.NaN)} ms (p95 ${ms(s50?.p95 ?? Number.NaN)}); ${long.toLocaleString("en")} chars (${results.cache.textChars?.[long] ?? long} exactly): median ${ms(sLong?.median ?? Number.NaN)} ms (p95 ${ms(sLong?.p95 ?? Number.NaN)}); ratio ${x(ratio)}`,
    met,
    why: met
      ? undefined
      : `Server-side time of a hit by text size: ${Object.entries(c.serverByChars)
          .map(([chars, v]) => `${chars} chars ${ms(v.median)} ms`)
          .join(
            ", ",
          )}. For scale, in this process planSpeech (espeak-ng) + cacheKey + AudioCache.get of the 100-character text take ${ms(c.hitPath.median)} ms, AudioCache.get alone ${ms(c.inProcess.median)} ms: a hit path that phonemizes grows with the text (issue 12 item 1).${loadPhase("cache")}`,
  });
  return out;
}

function memoryWhy(results: Results, s: Omit<Summary, "goals" | "recommendation">): string {
  const parts = [
    `Each of the 2 inference workers holds its own onnxruntime session of the voice (sessions cannot be shared across worker threads)`,
  ];
  const shipped = results.memory.probes.filter((p) => p.options === "service session options");
  const first = shipped[0];
  if (first) {
    const base = first.readings[0]!.rssBytes;
    const created = first.readings[1]!.rssBytes;
    parts.push(
      `one bare session in a process of its own: node + tsx + onnxruntime ${mb(base)}, +${mb(created - base)} once the session is created (the 63 MB model held as weights)`,
    );
    for (const p of shipped)
      parts.push(`+${mb(p.readings.at(-1)!.rssBytes - created)} kept by the CPU arena after ${p.workload} (${p.ids} ids)`);
  }
  const one = results.memory.others.find((o) => o.label.startsWith("latency"));
  const two = results.memory.others.find((o) => o.label.startsWith("default"));
  if (one && two)
    parts.push(
      `after the same throughput runs a service with one worker (intra 2) held ${mb(one.rssBytes)}, the shipped two workers ${mb(two.rssBytes)}`,
    );
  parts.push(
    `in the service: ${mb(s.memory.ready)} when serving, ${mb(s.memory.defaultVoice)} after syntheses; three voices take ${mb(s.memory.threeVoices - s.memory.defaultVoice)} more than one, about ${mb((s.memory.threeVoices - s.memory.defaultVoice) / 2)} per extra voice`,
  );
  return `${parts.join("; ")}.`;
}

function memoryAdvice(results: Results): string {
  const shipped = results.memory.probes.filter((p) => p.options === "service session options");
  const after = shipped.map((p) => `${mb(p.readings.at(-1)!.rssBytes)} after ${p.workload}`).join(" and ");
  const arenaOff = results.memory.probes.find((p) => p.options === "CPU arena off");
  return (
    `One bare session in a process of its own already holds ${after} (probe table)` +
    (arenaOff ? `; with the CPU arena off it keeps ${mb(arenaOff.readings.at(-1)!.rssBytes)} but peaks at ${mb(arenaOff.hwmBytes)}` : "") +
    ". So the 300 MB goal needs one worker and a smaller largest piece (MAX_PIECE_PHONEMES: the arena keeps the activations of the longest piece), or a budget that allows for one session per worker."
  );
}

const gzipped = (results: Results): boolean => results.cache.responseEncoding === "gzip";

const DEFAULT_NAME = (results: Results): string =>
  Object.entries(results.settings.services).find(
    ([name, svc]) => svc.intraOpThreads === 1 && svc.workers === 2 && !svc.cacheEnabled && name.startsWith("default"),
  )?.[0] ?? "default (intra 1, 2 workers)";

function recommend(results: Results, s: Omit<Summary, "goals" | "recommendation">): string[] {
  const lines: string[] = [];
  const names = Object.keys(s.throughput);
  const latencyName = names.find((n) => n.startsWith("latency")) ?? "";
  const defaultName = DEFAULT_NAME(results);
  const speedup = results.latency.texts.map(
    ({ chars }) => `${chars} chars ${x(s.latency[chars]!["grpc-default"]!.median / s.latency[chars]!.grpc!.median)}`,
  );
  lines.push(
    `One request at a time, ONNX_INTRA_OP_THREADS=2 vs 1 (service medians, intra 1 ÷ intra 2): ${speedup.join(", ")}; bare floor RTF intra 1 ${s.rtf["floor-1t"]!.toFixed(3)} vs intra 2 ${s.rtf.floor!.toFixed(3)}.`,
  );
  const row = (name: string): string =>
    `${name}: ${results.throughput.levels.map((c) => `c${c} ${s.throughput[name]?.[c]?.audioPerSecond.toFixed(1) ?? "n/a"}`).join(", ")} audio-s/s`;
  lines.push(`Throughput: ${names.map(row).join("; ")}.`);
  const at = (name: string, c: number): number => s.throughput[name]?.[c]?.audioPerSecond ?? Number.NaN;
  const loaded = (name: string): number => Math.max(...[2, 4, 8].map((c) => at(name, c)));
  const latencyGain = s.latency[100]!["grpc-default"]!.median / s.latency[100]!.grpc!.median;
  const throughputLoss = loaded(latencyName) / loaded(defaultName);
  if (latencyGain >= 1.1 && throughputLoss >= 0.9) {
    lines.push(
      `Suggested default: ONNX_INTRA_OP_THREADS=2 with MAX_CONCURRENT_REQUESTS=1 on a 2-core replica: ${x(latencyGain)} faster single requests (100 chars) at ${x(throughputLoss)} of the shipped default's loaded throughput.`,
    );
  } else if (latencyGain >= 1.1) {
    lines.push(
      `Trade-off: ONNX_INTRA_OP_THREADS=2, MAX_CONCURRENT_REQUESTS=1 makes single requests ${x(latencyGain)} faster (100 chars) but gives only ${x(throughputLoss)} of the shipped default's loaded throughput: keep the default for busy replicas, use intra 2 / 1 worker where callers are few and latency matters.`,
    );
  } else {
    lines.push(
      `Keep the shipped default (ONNX_INTRA_OP_THREADS=1, MAX_CONCURRENT_REQUESTS=2): two intra-op threads buy only ${x(latencyGain)} on a single 100-character request here, and the default's loaded throughput is ${x(1 / throughputLoss)} that of intra 2 / 1 worker.`,
    );
  }
  lines.push(
    (gzipped(results)
      ? `Response compression (src/server/server.ts): connect-node gzips every response for a client that offers gzip, and WAV barely compresses (to ${(s.stages[100]!.gzipRatio * 100).toFixed(0)}%). `
      : `Response compression is off in the server (grpc-encoding of a response to a gzip-offering client: ${results.cache.responseEncoding}); gzip would shrink the WAV only to ${(s.stages[100]!.gzipRatio * 100).toFixed(0)}% for ${ms(s.stages[100]!.gzip + s.stages[100]!.gunzip)} ms (100 chars). `) +
      `Cache hits over loopback from a client offering gzip ${ms(s.cache.loopback.median)} ms, from one offering none ${ms(s.cache.loopbackIdentity.median)} ms; uncached 50 characters: ${ms(s.latency[50]!.grpc!.median)} vs ${ms(s.latency[50]!["grpc-identity"]?.median ?? Number.NaN)} ms. ` +
      (gzipped(results)
        ? "Pass `acceptCompression: []` to connectNodeAdapter (or a compressMinBytes above typical audio sizes) so audio goes out uncompressed."
        : "Keep it off."),
  );
  const one = results.memory.others.find((o) => o.label.startsWith("latency"));
  const two = results.memory.others.find((o) => o.label.startsWith("default"));
  if (one && two) {
    lines.push(
      `Memory: every worker holds its own session and arena, so MAX_CONCURRENT_REQUESTS sets the RSS: after identical throughput runs ${mb(one.rssBytes)} with one worker vs ${mb(two.rssBytes)} with two. ` +
        memoryAdvice(results),
    );
  }
  const builds = Object.entries(s.ortBuilds[200] ?? {});
  if (builds.length > 1) {
    lines.push(
      `onnxruntime build, bare floor on the 200-character text: ${builds.map(([b, v]) => `${b} ${ms(v)} ms`).join(", ")}: move onnxruntime-node to the newer build once npm publishes it.`,
    );
  }
  return lines;
}

/** Labels of the per-text time-to-first-audio subjects ("stream-default:sentence-50", ...). */
function ttfaLabel(results: Results, subject: string): string {
  const [kind, key] = subject.split(":");
  if (key === undefined) return SUBJECT_LABEL[subject] ?? subject;
  const text = results.ttfaTexts?.find((t) => t.key === key)?.label ?? key;
  const who =
    kind === "stream-default"
      ? "SynthesizeStream, shipped defaults"
      : kind === "stream-latency"
        ? "SynthesizeStream, intra 2, 1 worker"
        : kind === "stream-peak"
          ? "SynthesizeStream, shipped defaults, NORMALIZATION_SENTENCE_PEAK"
          : kind === "encoder"
            ? "bare encoder part, first sentence (2 threads)"
            : kind === "first-window"
              ? "bare flow and decoder parts, first 16-frame window (1 thread)"
              : "Piper synthesize(), first chunk";
  return `${who}: ${text}`;
}

/** The console table. */
export function renderTable(results: Results, s: Summary): string {
  const out: string[] = [];
  const pad = (cells: string[], widths: number[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  out.push(
    `\nAetherOS TTS benchmark (${results.mode}), ${results.startedAt}, ${results.machine.cpuModel} x${results.machine.cores}; other processes used ${cores(s.load.foreignMean)} cores on average`,
  );
  const widths = [58, 9, 9, 8, 8, 7];
  for (const { chars } of results.latency.texts) {
    out.push(`\nuncached latency, ${chars} characters (ms; n=${results.settings.iterations})`);
    out.push(pad(["subject", "median", "p95", "xPiper", "xFloor", "RTF"], widths));
    for (const subject of results.latency.subjects) {
      const v = s.latency[chars]![subject]!;
      out.push(
        pad(
          [
            SUBJECT_LABEL[subject] ?? subject,
            ms(v.median),
            ms(v.p95),
            x(v.median / s.latency[chars]!.piper!.median),
            x(v.median / s.latency[chars]![FLOOR_OF[subject]!]!.median),
            v.rtf.toFixed(3),
          ],
          widths,
        ),
      );
    }
  }
  out.push(`\ntime to first audio, ${results.ttfa.paragraphChars}-character paragraph (ms)`);
  out.push(pad(["subject", "median", "p95"], widths));
  for (const [subject, v] of Object.entries(s.ttfa)) out.push(pad([ttfaLabel(results, subject), ms(v.median), ms(v.p95)], widths));
  out.push("\ncache hits (ms)");
  out.push(pad(["AudioCache.get, memory hit, in process", ms(s.cache.inProcess.median), ms(s.cache.inProcess.p95)], widths));
  out.push(pad(["hit path in process (planSpeech + cacheKey + get)", ms(s.cache.hitPath.median), ms(s.cache.hitPath.p95)], widths));
  out.push(pad(["unary gRPC over loopback, cache on", ms(s.cache.loopback.median), ms(s.cache.loopback.p95)], widths));
  out.push(
    pad(["… client without gzip (acceptCompression: [])", ms(s.cache.loopbackIdentity.median), ms(s.cache.loopbackIdentity.p95)], widths),
  );
  for (const [client, bySize] of Object.entries(s.cache.byClient))
    for (const [chars, v] of Object.entries(bySize))
      out.push(pad([`${results.cache.clients?.[client]?.label ?? client}, ${chars} chars`.slice(0, 58), ms(v.median), ms(v.p95)], widths));
  for (const [chars, v] of Object.entries(s.cache.serverByChars))
    out.push(pad([`server-side (generation_time_ms) of a hit, ${chars} chars`, ms(v.median), ms(v.p95)], widths));
  if (s.cache.ghz) out.push(pad(["ghz, 100 chars", ms(s.cache.ghz.median), ms(s.cache.ghz.p95)], widths));
  if (s.cache.grpcurl)
    out.push(pad(["grpcurl (a process per call), 100 chars", ms(s.cache.grpcurl.median), ms(s.cache.grpcurl.p95)], widths));
  out.push("\nthroughput (audio seconds per second)");
  out.push(pad(["service", ...results.throughput.levels.map((c) => `c=${c}`)], widths));
  for (const [name, levels] of Object.entries(s.throughput))
    out.push(pad([name, ...results.throughput.levels.map((c) => levels[c]?.audioPerSecond.toFixed(1) ?? "n/a")], widths));
  out.push("\nmemory (RSS)");
  for (const r of results.memory.readings) out.push(pad([r.label.slice(0, 58), mb(r.rssBytes)], widths));
  out.push(pad(["Piper reference process", mb(results.memory.piper.rssBytes)], widths));
  out.push("\ngoals");
  for (const g of s.goals) out.push(`  ${g.met === undefined ? "report" : g.met ? "met   " : "MISSED"}  ${g.goal}: ${g.measured}`);
  return out.join("\n");
}

/** BENCHMARKS.md */
export function renderMarkdown(results: Results, s: Summary): string {
  const md: string[] = [];
  const table = (header: string[], rows: string[][]): void => {
    md.push(
      `| ${header.join(" | ")} |`,
      `|${header.map((_, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`,
      ...rows.map((r) => `| ${r.join(" | ")} |`),
      "",
    );
  };
  const v = results.versions;
  const quiet = s.load.foreignMean < 0.1 && s.load.foreignP95 < 0.3;
  md.push("# Benchmarks", "");
  md.push(
    results.mode === "quick"
      ? `Generated by \`npm run bench -- --quick\` (bench/run.ts) on ${results.startedAt.slice(0, 10)} in ${Math.round(results.durationSeconds / 60)} minutes: a check of the harness with a few iterations, not reference figures; every raw sample is in \`bench/results/quick.json\`.`
      : `Generated by \`npm run bench\` (bench/run.ts) on ${results.startedAt.slice(0, 10)} in ${Math.round(results.durationSeconds / 60)} minutes; every raw sample is in ` +
          "`bench/results/latest.json`. `npm run bench -- --report` renders this file again from that JSON.",
    "",
  );
  md.push(
    quiet
      ? `**Load:** quiet run: other processes used ${cores(s.load.foreignMean)} cores on average (p95 ${cores(s.load.foreignP95)}) of ${results.machine.cores}.`
      : `**Load: NOISY RUN.** Other processes used ${cores(s.load.foreignMean)} of ${results.machine.cores} cores on average (p95 ${cores(s.load.foreignP95)}, max ${cores(s.load.foreignMax)}; ` +
          `busiest: ${s.load.top.map(([c, sec]) => `${c} ${sec.toFixed(0)} CPU-s`).join(", ")}). Absolute figures are slower than on a quiet machine; ratios between subjects are ` +
          "more trustworthy because every subject ran interleaved under the same load. Re-run `npm run bench` on a quiet machine for reference figures.",
    "",
  );
  if (results.note) md.push(`**Note:** ${results.note}`, "");

  md.push("## Machine, versions, settings", "");
  table(
    ["", ""],
    [
      [
        "CPU",
        `${results.machine.cpuModel}, ${results.machine.cores} cores${results.machine.hypervisor ? `, ${results.machine.hypervisor}` : ""}, ${results.machine.memoryGiB} GiB`,
      ],
      ["kernel", results.machine.kernel],
      ["Node / onnxruntime-node", `${v.node} / ${v.onnxruntimeNode}`],
      [
        "Piper reference",
        `piper-tts ${v.piper.piper_tts}, Python ${v.piper.python}, onnxruntime ${v.piper.onnxruntime}, numpy ${v.piper.numpy} (private venv bench/.venv)`,
      ],
      ["voice", `${results.settings.voice} (same .onnx file for every subject)`],
      ["commit", `${v.gitCommit}${v.gitDirty ? " (with uncommitted changes in src/, bench/ or package.json)" : ""}`],
      [
        "iterations",
        `${results.settings.iterations} measured after ${results.settings.warmup} warm-up; subjects interleaved in a shuffled order every iteration (seed ${results.settings.seed}), ${results.settings.settleMs} ms idle before each timed call`,
      ],
    ],
  );
  md.push("Thread settings (stated, not tuned per subject):", "");
  table(
    ["subject", "ONNX_INTRA_OP_THREADS", "MAX_CONCURRENT_REQUESTS", "cache", "used for"],
    [
      ...Object.entries(results.settings.services).map(([name, svc]) => [
        `service \`${name}\` (child process)`,
        String(svc.intraOpThreads),
        String(svc.workers),
        svc.cacheEnabled ? "on" : "off",
        name.startsWith("latency")
          ? "uncached latency (subject a), time to first audio, throughput"
          : name.startsWith("default")
            ? "latency and throughput with the shipped defaults"
            : name.startsWith("intra 2")
              ? "throughput"
              : name.startsWith("cache")
                ? "cache hits over loopback"
                : "resident memory",
      ]),
      [
        "engine in process (pool, no transport)",
        String(results.settings.engine.intraOpThreads),
        `${results.settings.engine.workers} (pool threads)`,
        "—",
        "uncached latency (subject b), time to first audio",
      ],
      [
        "floor: bare `InferenceSession.run`, main thread",
        results.settings.floor.intraOpThreads.join(" and "),
        "—",
        "—",
        "uncached latency (subject d): same session options as src/engine/inference.ts",
      ],
      [
        "Piper `PiperVoice` (Python child, timed in Python)",
        `onnxruntime default (${v.piper.intra_op_num_threads} = one per core, ${v.piper.cpu_count} here)`,
        "—",
        "—",
        "uncached latency (subject c), time to first audio",
      ],
      ...Object.entries(results.peers ?? {}).map(([name, peer]) => [
        `peer \`${name}\``,
        peer.unavailable ? `did not run: ${peer.unavailable}` : peer.description,
        "—",
        "—",
        "uncached latency",
      ]),
    ],
  );
  md.push(
    "Piper loads its voice with `onnxruntime.SessionOptions()` defaults: intra-op threads 0, which onnxruntime turns into one per core (all " +
      `${results.machine.cores} here), and its default graph optimizations; it is timed around \`synthesize_wav\` (default SynthesisConfig) into an in-memory WAV, inside a long-lived Python process, so interpreter and model start-up are excluded. ` +
      "The service runs with LOG_LEVEL=info (one log line per call, as shipped). Floors use " +
      `\`${JSON.stringify(results.settings.floor.sessionOptions)}\` plus intraOpNumThreads, on our own phoneme ids for the same text.`,
    "",
  );

  md.push("## Goals", "");
  table(
    ["goal", "measured", "result"],
    s.goals.map((g) => [g.goal, g.measured, verdict(g)]),
  );
  const missed = s.goals.filter((g) => g.met === false);
  if (missed.length) {
    md.push("Why the missed goals were missed:", "");
    for (const g of missed) md.push(`- **${g.goal}** — ${g.why}`);
    md.push("");
  }

  md.push("## Uncached latency", "");
  md.push(
    "Unary `Synthesize`, WAV, `use_cache=false` over gRPC on loopback (client-side time); the engine in process is planSpeech + synthesizePieces + floatToPcm16. " +
      "×Piper is median ÷ Piper's median; ×floor is median ÷ the floor with the same intra-op thread count. RTF is the median of synthesis time ÷ audio duration.",
    "",
  );
  for (const { chars, text, pieces, phonemes } of results.latency.texts) {
    md.push(
      `**${chars} characters** (${text.length} exactly, ${pieces} piece${pieces > 1 ? "s" : ""}, ${phonemes} phonemes): “${text}”`,
      "",
    );
    table(
      ["subject", "median ms", "p95 ms", "× Piper", "× floor", "RTF"],
      results.latency.subjects.map((subject) => {
        const l = s.latency[chars]![subject]!;
        return [
          SUBJECT_LABEL[subject] ?? subject,
          ms(l.median),
          ms(l.p95),
          x(l.median / s.latency[chars]!.piper!.median),
          x(l.median / s.latency[chars]![FLOOR_OF[subject]!]!.median),
          l.rtf.toFixed(3),
        ];
      }),
    );
  }
  md.push("### Real-time factor over all latency samples (total synthesis time ÷ total audio)", "");
  table(
    ["subject", "RTF", "× Piper", "× floor"],
    results.latency.subjects.map((subject) => [
      SUBJECT_LABEL[subject] ?? subject,
      s.rtf[subject]!.toFixed(3),
      x(s.rtf[subject]! / s.rtf.piper!),
      x(s.rtf[subject]! / s.rtf[FLOOR_OF[subject]!]!),
    ]),
  );

  md.push("## Time to first audio", "");
  md.push(
    `A ${results.ttfa.paragraphChars}-character paragraph (${results.ttfa.paragraphPieces} pieces) over \`SynthesizeStream\` (WAV, cache off): client time to the first \`AudioChunk\`, then the call is cancelled and the harness waits until the server is idle ` +
      `(median ${ms(s.ttfaStages.drain)} ms, not counted). Next to it, the uncached unary latency of the paragraph's first sentence alone (${results.ttfa.firstSentenceChars} characters). n=${results.settings.ttfaRuns}.`,
    "",
  );
  const piperFirst = s.ttfa["piper-first"]!.median;
  const floorFirst = s.ttfa["floor-first-piece"]!.median;
  table(
    ["subject", "median ms", "p95 ms", "× Piper first chunk", "× floor first piece"],
    Object.entries(s.ttfa)
      .filter(([subject]) => !subject.includes(":"))
      .map(([subject, t]) => [
        SUBJECT_LABEL[subject] ?? subject,
        ms(t.median),
        ms(t.p95),
        x(t.median / piperFirst),
        x(t.median / floorFirst),
      ]),
  );

  if (results.ttfaTexts?.length) {
    md.push(
      "Issue 13's texts: the first `AudioChunk` of `SynthesizeStream` (WAV, cache off; cancelled after it, server idle before the next call) from the shipped defaults (the model's own level), from intra 2 / 1 worker, and from the shipped defaults with `NORMALIZATION_SENTENCE_PEAK` (Piper's level, which waits for each sentence's last sample); what the first audio waits for, timed on bare onnxruntime sessions of the voice's split parts (its first sentence's encoder run on 2 threads, its first 16-frame window's flow and decoder runs on 1), " +
        "against Piper's `synthesize()` first chunk of the same text (it phonemizes the whole text, then yields the first sentence's audio). Audio = seconds of sound in that first chunk.",
      "",
    );
    table(
      [
        "text",
        "chars",
        "shipped defaults ms",
        "p95",
        "intra 2, 1 worker ms",
        "SENTENCE_PEAK ms",
        "bare encoder + first window ms",
        "Piper first chunk ms",
        "defaults ÷ Piper",
        "goal",
        "audio in first chunk: service / Piper",
      ],
      results.ttfaTexts.map((t) => {
        const get = (prefix: string) => s.ttfa[`${prefix}:${t.key}`];
        const audio = (prefix: string) =>
          median(results.ttfa.samples.filter((x) => x.subject === `${prefix}:${t.key}`).map((x) => x.audioSeconds ?? Number.NaN));
        return [
          t.label,
          String(t.chars),
          ms(get("stream-default")?.median ?? Number.NaN),
          ms(get("stream-default")?.p95 ?? Number.NaN),
          ms(get("stream-latency")?.median ?? Number.NaN),
          ms(get("stream-peak")?.median ?? Number.NaN),
          `${ms(get("encoder")?.median ?? Number.NaN)} + ${ms(get("first-window")?.median ?? Number.NaN)}`,
          ms(get("piper-first")?.median ?? Number.NaN),
          x((get("stream-default")?.median ?? Number.NaN) / (get("piper-first")?.median ?? Number.NaN)),
          `≤ ${TTFA_GOALS[t.key] ?? "?"}x`,
          `${audio("stream-default").toFixed(2)} s / ${audio("piper-first").toFixed(2)} s`,
        ];
      }),
    );
  }

  md.push("## Cache hits", "");
  md.push(
    `Piper has no cache, so there is no reference ratio. The in-process entry is the real ${results.cache.entryBytes}-byte WAV of the 100-character text. Loopback: unary \`Synthesize\` with \`use_cache\` on, against a service started with CACHE_ENABLED=true (memory and disk tiers, defaults otherwise); every timed call is a repeat of an identical call, ${results.cache.clients ? `from ${Object.keys(results.cache.clients).length} clients interleaved (all in the second table), among them` : "from two clients interleaved:"} connect-node's gRPC client as is (it offers gzip; the server answered with grpc-encoding ${results.cache.responseEncoding ?? "unknown"}) and one that offers no compression.`,
    "",
  );
  table(
    ["what", "n", "median ms", "p95 ms", "goal"],
    [
      [
        "AudioCache.get, memory hit, in process",
        String(s.cache.inProcess.n),
        ms(s.cache.inProcess.median),
        ms(s.cache.inProcess.p95),
        "< 1 ms",
      ],
      [
        "hit path in process: planSpeech + cacheKey + get (100 chars)",
        String(s.cache.hitPath.n),
        ms(s.cache.hitPath.median),
        ms(s.cache.hitPath.p95),
        "",
      ],
      [
        "unary gRPC over loopback, all sizes (connect-node client as is: offers gzip)",
        String(s.cache.loopback.n),
        ms(s.cache.loopback.median),
        ms(s.cache.loopback.p95),
        // Schema 2 puts the goal on the project's own client (second table).
        results.cache.clients ? "" : "< 3 ms",
      ],
      ...Object.entries(s.cache.loopbackByChars).map(([chars, c]) => [
        `… ${chars} characters`,
        String(c.default.n),
        ms(c.default.median),
        ms(c.default.p95),
        "",
      ]),
      [
        "unary gRPC over loopback, all sizes, client without gzip (`acceptCompression: []`)",
        String(s.cache.loopbackIdentity.n),
        ms(s.cache.loopbackIdentity.median),
        ms(s.cache.loopbackIdentity.p95),
        "",
      ],
      ...Object.entries(s.cache.loopbackByChars).map(([chars, c]) => [
        `… ${chars} characters`,
        String(c.identity.n),
        ms(c.identity.median),
        ms(c.identity.p95),
        "",
      ]),
      [
        "… of which server-reported generation_time_ms",
        String(s.cache.loopbackServer.n),
        ms(s.cache.loopbackServer.median),
        ms(s.cache.loopbackServer.p95),
        "",
      ],
    ],
  );

  if (results.cache.clients) {
    const sizes = [...new Set(results.cache.loopback.map((h) => h.chars))].sort((a, b) => a - b);
    md.push(
      `Every client a user might pick, on the same hits, interleaved (n=${results.settings.loopbackCacheRounds} per client and text after a warm-up); the long text has ${results.cache.textChars?.[Math.max(...sizes)] ?? "?"} characters. Median ms (p95):`,
      "",
    );
    table(
      ["client", ...sizes.map((c) => `${c.toLocaleString("en")} chars`)],
      [
        ...Object.entries(s.cache.byClient).map(([client, bySize]) => [
          `${results.cache.clients?.[client]?.label ?? client}${results.cache.clients?.[client]?.windowBytes ? ` (${results.cache.clients[client]!.windowBytes! / 2 ** 20} MiB windows)` : ""}`,
          ...sizes.map((c) => {
            const v = bySize[c];
            const refused = results.cache.refused?.find((r) => r.client === client && r.chars === c);
            return v ? `${ms(v.median)} (${ms(v.p95)})` : refused ? `refused: ${refused.code}` : "—";
          }),
        ]),
        [
          "server-side part (generation_time_ms), all clients",
          ...sizes.map((c) => `${ms(s.cache.serverByChars[c]?.median ?? Number.NaN)} (${ms(s.cache.serverByChars[c]?.p95 ?? Number.NaN)})`),
        ],
      ],
    );
    const ghz = results.cache.ghz;
    const grpcurl = results.cache.grpcurl;
    md.push(
      `Go clients on the 100-character hit, with their defaults: ghz ${s.cache.ghz && ghz && "version" in ghz ? `${ghz.version}, ${s.cache.ghz.n} calls on one connection: median ${ms(s.cache.ghz.median)} ms, p95 ${ms(s.cache.ghz.p95)} ms` : `not run (${ghz && "unavailable" in ghz ? ghz.unavailable : "?"})`}; ` +
        `grpcurl, one process per call (start, reflection, call): ${s.cache.grpcurl ? `median ${ms(s.cache.grpcurl.median)} ms, p95 ${ms(s.cache.grpcurl.p95)} ms (n=${s.cache.grpcurl.n})` : `not run (${grpcurl && "unavailable" in grpcurl ? grpcurl.unavailable : "?"})`}.`,
      "",
    );
    for (const r of results.cache.refused ?? [])
      md.push(
        `- **${r.client}** refused the ${r.chars.toLocaleString("en")}-character hit: ${r.code}: ${r.message.replaceAll("|", "\\|")}`,
      );
    if (results.cache.refused?.length) md.push("");
  }

  md.push("## Throughput", "");
  md.push(
    `Audio seconds produced per wall-clock second over gRPC: batches of ${results.throughput.texts} distinct ~100-character texts (WAV, cache off), ${results.settings.throughputRounds} batches per level and service, levels and services interleaved. ` +
      `Single-stream references from the latency runs (1 ÷ RTF): Piper ${s.singleStream.piper.toFixed(1)}, floor intra 2 ${s.singleStream.floor.toFixed(1)}, floor intra 1 ${s.singleStream.floor1t.toFixed(1)} audio-s/s.`,
    "",
  );
  table(
    [
      "service",
      ...results.throughput.levels.map((c) => `c=${c}`),
      "c2 ÷ c1",
      "c8 ÷ best",
      "× Piper (best)",
      "× floor intra 2 (best)",
      "p95 request ms at c=8",
      ...(results.baseline ? ["c=2, c=8 ÷ previous run"] : []),
    ],
    Object.entries(s.throughput).map(([name, levels]) => {
      const vals = results.throughput.levels.map((c) => levels[c]?.audioPerSecond ?? Number.NaN);
      const best = Math.max(...vals);
      const bestBelow8 = Math.max(...results.throughput.levels.filter((c) => c < 8).map((c) => levels[c]?.audioPerSecond ?? Number.NaN));
      return [
        name,
        ...vals.map((t) => t.toFixed(1)),
        x((levels[2]?.audioPerSecond ?? NaN) / (levels[1]?.audioPerSecond ?? NaN)),
        x((levels[8]?.audioPerSecond ?? NaN) / bestBelow8),
        x(best / s.singleStream.piper),
        x(best / s.singleStream.floor),
        ms(levels[8]?.p95RequestMs ?? NaN),
        ...(results.baseline
          ? [
              [2, 8]
                .map((c) => x((levels[c]?.audioPerSecond ?? Number.NaN) / (results.baseline!.throughput[name]?.[c] ?? Number.NaN)))
                .join(", "),
            ]
          : []),
      ];
    }),
  );
  if (results.baseline) {
    const b = results.baseline;
    md.push(
      `Previous run: \`${b.file}\`, a ${b.mode} run of ${b.startedAt.slice(0, 10)} at commit ${b.gitCommit} (batches of ${b.throughputBatch}; other processes used ${cores(b.foreignCores)} cores on average then).`,
      "",
    );
  }

  md.push("## Resident memory", "");
  md.push(
    `RSS (VmRSS, all threads) of a child-process service with the shipped defaults (2 inference workers, intra 1, cache off). Extra voices are copies of the default voice's two files under other names in a temporary MODELS_DIR, each loaded by a Synthesize call.`,
    "",
  );
  table(
    ["state", "RSS", "peak (VmHWM)", "× Piper process"],
    [
      ...results.memory.readings.map((r) => [r.label, mb(r.rssBytes), mb(r.hwmBytes), x(r.rssBytes / results.memory.piper.rssBytes)]),
      ...(results.baseline
        ? [
            [
              `previous run (${results.baseline.startedAt.slice(0, 10)}, ${results.baseline.gitCommit}): serving / after load`,
              `${mb(results.baseline.memory.serving)} / ${mb(results.baseline.memory.afterLoad)}`,
              "",
              `${x(results.baseline.memory.serving / results.baseline.memory.piper)} / ${x(results.baseline.memory.afterLoad / results.baseline.memory.piper)}`,
            ],
          ]
        : []),
      [
        results.ttfaTexts
          ? `Piper reference process (Python, one voice, after the latency and time-to-first-audio runs; its longest single input: the ${results.ttfaTexts.find((t) => t.key === "sentence-300")?.chars ?? "~300"}-character sentence)`
          : "Piper reference process (Python, one voice, after the latency runs)",
        mb(results.memory.piper.rssBytes),
        mb(results.memory.piper.hwmBytes),
        "1.00x",
      ],
      ...results.memory.others.map((r) => [
        r.label in results.settings.services ? `service \`${r.label}\` after the throughput runs` : `${r.label}, after the latency runs`,
        mb(r.rssBytes),
        mb(r.hwmBytes),
        x(r.rssBytes / results.memory.piper.rssBytes),
      ]),
    ],
  );

  md.push("One bare onnxruntime session in a process of its own (bench/lib/memory-probe.ts), RSS after each step:", "");
  table(
    ["session options", "workload", "max ids", "node + tsx + ort", "session created", "after 3 runs", "peak"],
    results.memory.probes.map((p) => [
      p.options,
      p.workload,
      String(p.ids),
      mb(p.readings[0]!.rssBytes),
      mb(p.readings[1]!.rssBytes),
      mb(p.readings.at(-1)!.rssBytes),
      mb(p.hwmBytes),
    ]),
  );

  md.push("## Profile: where the time goes", "");
  md.push(
    "Medians per stage, uncached. In process (engine, intra 2): phonemize = planSpeech (espeak-ng + ids); inference = waiting on the worker pool; floor = the bare run on the same ids; worker hand-off = inference − floor; " +
      "float→int16 and WAV encode as the service does them. Service (intra 2, 1 worker): server = its generation_time_ms; transport = client time − server time; " +
      `gzip / gunzip = zlib at connect's level on a WAV of that text, in the harness (what compression costs; the service under test ${gzipped(results) ? "gzips every response for a client that offers it" : "sends responses uncompressed"}).`,
    "",
  );
  table(
    [
      "chars",
      "phonemize (Piper)",
      "inference via pool",
      "floor",
      "worker hand-off",
      "float→int16",
      "WAV encode",
      "engine total",
      "server",
      "server − floor",
      "transport",
      "gzip + gunzip",
      "gRPC total",
      "Piper total",
    ],
    results.latency.texts.map(({ chars }) => {
      const st = s.stages[chars]!;
      return [
        String(chars),
        `${ms(st.phonemize)} (${ms(st.piperPhonemize)})`,
        ms(st.inference),
        ms(st.floor),
        ms(st.workerOverhead),
        ms(st.pcm),
        ms(st.encodeWav),
        ms(st.engine),
        ms(st.server),
        ms(st.serverOverFloor),
        ms(st.transport),
        `${ms(st.gzip)} + ${ms(st.gunzip)}`,
        ms(st.grpc),
        ms(st.piper),
      ];
    }),
  );
  if (results.ortBuilds.builds.length > 0) {
    md.push(
      `The bare floor per onnxruntime build (same session options, intra 2, same ids; bench/lib/ort_floor.py for Python), median ms:`,
      "",
    );
    table(
      ["chars", ...results.ortBuilds.builds, ...results.ortBuilds.builds.slice(1).map((b) => `${b} ÷ ${results.ortBuilds.builds[0]}`)],
      results.latency.texts.map(({ chars }) => {
        const row = s.ortBuilds[chars]!;
        const first = row[results.ortBuilds.builds[0]!]!;
        return [
          String(chars),
          ...results.ortBuilds.builds.map((b) => ms(row[b]!)),
          ...results.ortBuilds.builds.slice(1).map((b) => x(row[b]! / first)),
        ];
      }),
    );
  }
  md.push(
    `Time to first audio: phonemizing the whole ${results.ttfa.paragraphChars}-character paragraph takes ${ms(s.ttfaStages.phonemizeParagraph)} ms in process (Piper ${ms(s.ttfaStages.piperPhonemizeParagraph)} ms) before the first piece's inference; StreamStart reaches the client after ${ms(s.ttfaStages.startMessage)} ms.`,
    "",
  );
  md.push("Load during each scenario (cores used by other processes, mean):", "");
  table(
    ["scenario", "seconds", "foreign cores"],
    Object.entries(s.load.byPhase).map(([phase, p]) => [phase, p.seconds.toFixed(0), cores(p.foreignMean)]),
  );

  md.push("## Recommended settings", "");
  for (const line of s.recommendation) md.push(`- ${line}`);
  md.push("");
  return md.join("\n");
}
