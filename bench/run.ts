/*
 * End-to-end benchmark (issues 8, 12, 13): this service over gRPC, its engine in process, the
 * Piper reference (piper-tts 1.8.0, Python API), its peers (Piper's own http_server and
 * sherpa-onnx-node) and the bare onnxruntime floor, interleaved in one run on the same voice
 * file, texts and machine. Not a test; run with
 *
 *   npm run bench                 full run (~10 min on 2 cores): bench/results/latest.json + BENCHMARKS.md
 *   npm run bench -- --quick      a few iterations to check the harness: bench/results/quick.json only
 *   npm run bench -- --report     re-render the table and BENCHMARKS.md from bench/results/latest.json
 *
 * Environment: BENCH_ITERATIONS (default 20), BENCH_SEED, BENCH_NOTE (a line for the report,
 * e.g. what else ran on the machine), BENCH_BASELINE (the results file to compare throughput
 * and memory with; default: bench/results/latest.json as it was before this run). Fetches what
 * it needs: the voice (src/voices/fetch.ts), the Piper reference and http_server (a private
 * virtualenv in bench/.venv) and sherpa's copy of the voice (bench/.sherpa), all git-ignored.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, release, totalmem, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gunzip, gzip as gzipCallback } from "node:zlib";
import { createTtsClient, DEFAULT_WINDOW_BYTES } from "@aetheros/tts-client";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import * as ort from "onnxruntime-node";
import { pino } from "pino";
import { AudioEncoding, Normalization, TtsService } from "../gen/aetheros/tts/v1/tts_pb.js";
import { createEncoder } from "../src/audio/encoder.js";
import { floatToPcm16 } from "../src/audio/pcm.js";
import { cacheKey, openAudioCache, type CachedAudio } from "../src/cache/index.js";
import { loadConfig } from "../src/config/index.js";
import { Engine, type Plan, planSpeech, type SpeechSettings, type VoiceModel } from "../src/engine/index.js";
import { EARLY_DECODE_WINDOWS, flowInputs, frameWindows, VoiceSession } from "../src/engine/inference.js";
import { prepareVoice } from "../src/engine/voice-graph.js";
import { ensureVoice } from "../src/voices/fetch.js";
import { VoiceCatalog } from "../src/voices/index.js";
import { ghzUnary, grpcJsSynthesize, grpcurlUnary, type SynthesizeInit, statusName, tool } from "./lib/clients.js";
import { ensureOrtVenv, ensurePiperVenv, JsonLineProcess, PiperHttpServer, PiperReference } from "./lib/piper.js";
import { CANCEL_TEXT, measureLiveCancel, startInProcessServer } from "./lib/live-cancel.js";
import { TOKEN_GAP_MS } from "./lib/live-input.js";
import { measureLiveStreams, STREAM_LEVELS, streamKeys, TURN_PERIOD_MS, TURNS } from "./lib/live-streams.js";
import { LIVE_REPLIES, measureLiveTtfa } from "./lib/live-ttfa.js";
import { type OpenAiRouteSample, openAiRouteText, timeOpenAiRoute } from "./lib/openai-route.js";
import { LoadSampler, memoryStatus, waitIdle } from "./lib/procs.js";
import { renderMarkdown, renderTable, summarize } from "./lib/report.js";
import {
  type Baseline,
  parseResults,
  serializeResults,
  type LatencySample,
  type MemoryReading,
  type Results,
  type ThroughputSample,
  type TtfaSample,
} from "./lib/results.js";
import { startService, type RunningService, type ServiceSettings } from "./lib/service.js";
import { prepareSherpaVoice, SherpaPeer } from "./lib/sherpa.js";
import { mean, median, seededRandom, shuffled } from "./lib/stats.js";
import {
  checkTexts,
  LATENCY_TEXTS,
  LONG_SENTENCE,
  longText,
  oneSentence,
  PARAGRAPH,
  PARAGRAPH_FIRST_SENTENCE,
  THROUGHPUT_TEXTS,
  TTFA_TEXTS,
} from "./lib/texts.js";

const gzipAsync = promisify(gzipCallback);
const gunzipAsync = promisify(gunzip);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MODELS_DIR = join(ROOT, "models");
const VOICE = "en_US-joe-medium";
const MODEL_FILE = join(MODELS_DIR, `${VOICE}.onnx`);
const RESULTS_DIR = join(ROOT, "bench", "results");
const LATEST = join(RESULTS_DIR, "latest.json");
const REPORT = join(ROOT, "BENCHMARKS.md");

const args = new Set(process.argv.slice(2));
const log = (message: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

if (args.has("--report")) {
  const results = parseResults(await readFile(LATEST, "utf8"));
  const summary = summarize(results);
  console.log(renderTable(results, summary));
  await writeFile(REPORT, renderMarkdown(results, summary));
  log(`wrote ${REPORT} from ${LATEST}`);
  process.exit(0);
}

const quick = args.has("--quick");
const ITERATIONS = quick ? 2 : Number(process.env.BENCH_ITERATIONS ?? 20);
const WARMUP = quick ? 1 : 2;
const TTFA_RUNS = quick ? 2 : ITERATIONS;
const THROUGHPUT_ROUNDS = quick ? 1 : 2;
const CONCURRENCY = [1, 2, 4, 8];
const CACHE_LOOKUPS = quick ? 500 : 5000;
const LOOPBACK_CACHE_ROUNDS = quick ? 10 : 100;
const SEED = Number(process.env.BENCH_SEED ?? 8);
/** sherpa-onnx-node's threads: both cores for one request, as the latency service and Piper use them. */
const SHERPA_THREADS = 2;
/** Cache hits on long texts: issue 12's 5,000 characters (the shipped MAX_TEXT_LENGTH). */
const LONG_HIT_CHARS = 5000;
/** The shipped MAX_TEXT_LENGTH (no variable set): the longest sentence the memory section speaks. */
const MAX_TEXT_LENGTH = loadConfig({}).maxTextLength;
const GHZ_CALLS = quick ? 50 : 500;
/** ~30 s replies through the OpenAI route, each a few seconds of synthesis. */
const OPENAI_ROUTE_RUNS = quick ? 2 : 7;
const GRPCURL_CALLS = quick ? 3 : 20;
/** Live speech (issue 14): runs of every reply (each 3 sentences, live and alone), cancels, stream counts. */
const LIVE_TTFA_RUNS = quick ? 2 : 10;
const LIVE_CANCEL_RUNS = quick ? 5 : 20;
const LIVE_STREAM_LEVELS = quick ? [10] : STREAM_LEVELS;
// Every timed single call starts on an idle machine. onnxruntime's intra-op threads spin for
// a while after a run, and a subject timed right after another paid for those threads: the
// service most (its inference runs at nice +10), 1.30x the bare session back to back against
// 1.09-1.13x with this pause, in an interleaved A/B here.
const SETTLE_MS = 100;
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
const BATCH = quick ? THROUGHPUT_TEXTS.slice(0, 4) : THROUGHPUT_TEXTS;
const random = seededRandom(SEED);

/**
 * Thread settings. Latency: two intra-op threads per inference (one request at a time uses
 * both cores, as Piper's default does). Throughput: the shipped default (one intra-op
 * thread, two workers) against the two other sensible splits of 2 cores.
 */
const LATENCY_INTRA = 2;
const SERVICES: Record<string, ServiceSettings> = {
  "latency (intra 2, 1 worker)": { intraOpThreads: 2, workers: 1, cacheEnabled: false },
  "default (intra 1, 2 workers)": { intraOpThreads: 1, workers: 2, cacheEnabled: false },
  "intra 2, 2 workers": { intraOpThreads: 2, workers: 2, cacheEnabled: false },
};
const [LATENCY_SERVICE, DEFAULT_SERVICE, OVERSUBSCRIBED_SERVICE] = Object.keys(SERVICES) as [string, string, string];

/** Copied from src/engine/inference.ts (VoiceSession.load); checked against its source below. */
const FLOOR_SESSION_OPTIONS = {
  executionProviders: ["cpu"],
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
  enableCpuMemArena: true,
  enableMemPattern: false,
} as const;

checkTexts();
await checkFloorOptions();
// Read before this run overwrites latest.json.
const baseline = await readBaseline(process.env.BENCH_BASELINE ?? LATEST);
const ortPackage = async (name: string): Promise<string> =>
  (JSON.parse(await readFile(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
const ORT_VERSIONS = { node: await ortPackage("onnxruntime-node"), common: await ortPackage("onnxruntime-common") };
const startedAt = new Date();

// ---------------------------------------------------------------- setup (not timed)
log(`mode ${quick ? "quick" : "full"}: ${ITERATIONS} iterations after ${WARMUP} warm-up, seed ${SEED}`);
await ensureVoice(MODELS_DIR, VOICE, { log });
const python = ensurePiperVenv(join(ROOT, "bench", ".venv"), log);
// Python onnxruntime at Node's version, to tell the binding from the build in the floor comparison.
// Optional: without it (no wheel for that version, no PyPI) the run goes on without that comparison.
let ortPython: string | undefined;
try {
  ortPython = ensureOrtVenv(join(ROOT, "bench", `.venv-ort-${ORT_VERSIONS.node}`), ORT_VERSIONS.node, log);
} catch (error) {
  log(`skipping the Python onnxruntime ${ORT_VERSIONS.node} floor: ${(error as Error).message}`);
}
const sampler = new LoadSampler(1000);
sampler.start();

const services = new Map<string, RunningService>();
/** Every service this run started, with the settings it ran with. */
const serviceRecords = new Map<string, Results["settings"]["services"][string]>();
async function service(name: string, settings: ServiceSettings): Promise<RunningService> {
  log(`starting service "${name}"`);
  const running = await startService(name, ROOT, settings);
  services.set(name, running);
  serviceRecords.set(name, {
    intraOpThreads: settings.intraOpThreads,
    workers: settings.workers,
    cacheEnabled: settings.cacheEnabled,
    env: running.envSet,
    startupMs: running.startupMs,
  });
  log(`service "${name}" serving on ${running.baseUrl} after ${Math.round(running.startupMs)} ms`);
  return running;
}
const stopAll = async (): Promise<void> => {
  await Promise.allSettled([...services.values()].map((s) => s.stop()));
};
process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));

let piper: PiperReference | undefined;
let sherpa: SherpaPeer | undefined;
let piperHttp: PiperHttpServer | undefined;
let inProcess: Engine | undefined;
try {
  const results = await runAll().catch((error: unknown) => {
    // Shown before the cleanup below, which waits for child processes to end.
    log(`failed: ${(error as Error).stack ?? String(error)}`);
    throw error;
  });
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = quick ? join(RESULTS_DIR, "quick.json") : LATEST;
  await writeFile(file, serializeResults(results));
  log(`wrote the raw samples to ${file}`);
  const summary = summarize(results);
  console.log(renderTable(results, summary));
  const markdown = quick ? join(RESULTS_DIR, "quick.md") : REPORT;
  await writeFile(markdown, renderMarkdown(results, summary));
  log(`wrote ${markdown}`);
} finally {
  await stopAll();
  await piper?.stop();
  await sherpa?.stop();
  await piperHttp?.stop();
  await inProcess?.close();
}

async function runAll(): Promise<Results> {
  sampler.phase = "start-up";
  const latencyService = await service(LATENCY_SERVICE, SERVICES[LATENCY_SERVICE]!);
  const defaultService = await service(DEFAULT_SERVICE, SERVICES[DEFAULT_SERVICE]!);
  log("starting the Piper reference");
  const ref = await PiperReference.start(python, join(ROOT, "bench", "lib", "piper_server.py"), MODEL_FILE);
  piper = ref;
  log(
    `Piper reference ready: piper-tts ${ref.info.piper_tts}, onnxruntime ${ref.info.onnxruntime}, intra_op_num_threads ${ref.info.intra_op_num_threads}`,
  );
  // Peers (issue 13 item 6). Each is optional: one that cannot start is reported as such and the run goes on.
  const peers: NonNullable<Results["peers"]> = {};
  sampler.phase = "peers start-up";
  try {
    const sherpaVoice = await prepareSherpaVoice(MODEL_FILE, join(ROOT, "bench", ".sherpa"));
    // The service's own espeak-ng data (built by npm ci): sherpa's archives, which carry theirs, cannot be fetched here.
    const espeakData = join(ROOT, "native", "espeak", "espeak-ng-data");
    sherpa = await SherpaPeer.start(ROOT, sherpaVoice, espeakData, SHERPA_THREADS);
    peers.sherpa = {
      description: `sherpa-onnx-node ${sherpa.info.sherpa_onnx_node}, OfflineTts (VITS/Piper), numThreads ${SHERPA_THREADS}, the voice's noise/length scales, espeak-ng-data of native/espeak; a copy of the .onnx with sherpa's metadata (${Object.entries(
        sherpaVoice.metadata,
      )
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}) and a tokens.txt from phoneme_id_map; timed in its own process around generate() + WAV bytes`,
      version: sherpa.info.sherpa_onnx_node,
    };
    log(`sherpa-onnx-node ${sherpa.info.sherpa_onnx_node} ready (${SHERPA_THREADS} threads)`);
  } catch (error) {
    peers.sherpa = { description: "sherpa-onnx-node", version: "n/a", unavailable: (error as Error).message.split("\n")[0]! };
    log(`sherpa-onnx-node unavailable: ${(error as Error).message}`);
  }
  try {
    piperHttp = await PiperHttpServer.start(python, MODEL_FILE);
    peers["piper-http"] = {
      description: `\`python -m piper.http_server -m ${VOICE}.onnx\` (piper-tts ${ref.info.piper_tts}, Flask's server, onnxruntime default threads), POST /synthesize {"text"} over HTTP/1.1 on loopback, timed in the harness until the whole WAV arrived`,
      version: ref.info.piper_tts,
    };
    log(`Piper http_server ready on ${piperHttp.url}`);
  } catch (error) {
    peers["piper-http"] = { description: "piper.http_server", version: "n/a", unavailable: (error as Error).message.split("\n")[0]! };
    log(`Piper http_server unavailable: ${(error as Error).message}`);
  }

  // The engine in process: the service's own engine, catalog and voice, no transport.
  const enginePool = new Engine({ threads: 1, intraOpThreads: LATENCY_INTRA, maxLoadedVoices: 3, logger: pino({ level: "silent" }) });
  inProcess = enginePool;
  const catalog = new VoiceCatalog(MODELS_DIR, pino({ level: "silent" }));
  const voice = enginePool.model(await catalog.voice(VOICE));
  await enginePool.load(await catalog.voice(VOICE));
  const never = new AbortController().signal;
  const settings: SpeechSettings = {
    speakerId: 0,
    scales: { noiseScale: voice.config.noiseScale, lengthScale: voice.config.lengthScale, noiseW: voice.config.noiseW, durationScale: 1 },
  };
  const scalesTensor = (): ort.Tensor =>
    new ort.Tensor("float32", Float32Array.of(settings.scales.noiseScale, settings.scales.lengthScale, settings.scales.noiseW), [3]);
  const floors = new Map<number, ort.InferenceSession>();
  for (const intra of [LATENCY_INTRA, 1])
    floors.set(intra, await ort.InferenceSession.create(MODEL_FILE, { ...FLOOR_SESSION_OPTIONS, intraOpNumThreads: intra }));
  const rate = voice.config.sampleRate;

  // ------------------------------------------------------------ subjects
  const grpc = async (running: RunningService, text: string) => {
    const started = performance.now();
    const response = await running.client.synthesize(
      { text, config: { encoding: AudioEncoding.WAV, useCache: false } },
      { timeoutMs: 120_000 },
    );
    const ms = performance.now() - started;
    if (response.cached) throw new Error("an uncached call was answered from the cache");
    return { ms, audioSeconds: response.durationSeconds, serverMs: response.generationTimeMs };
  };
  const engine = async (text: string) => {
    const started = performance.now();
    const plan = await enginePool.plan(voice, text);
    const planned = performance.now();
    let inferenceMs = 0;
    let pcmMs = 0;
    let samples = 0;
    const pcm: Int16Array[] = [];
    let waiting = performance.now();
    for await (const piece of enginePool.synthesize(voice, plan, settings, never)) {
      const inferred = performance.now();
      inferenceMs += inferred - waiting;
      const converted = floatToPcm16(piece.samples);
      pcm.push(converted);
      samples += converted.length;
      waiting = performance.now();
      pcmMs += waiting - inferred;
    }
    const ms = performance.now() - started;
    // WAV encoding, as the service does it, timed on its own after the measured region.
    const encodeStarted = performance.now();
    const encoder = await createEncoder(AudioEncoding.WAV, rate, { streaming: false });
    for (const part of pcm) encoder.write(part);
    encoder.end();
    const encodeWavMs = performance.now() - encodeStarted;
    return { ms, audioSeconds: samples / rate, stages: { phonemizeMs: planned - started, inferenceMs, pcmMs, encodeWavMs } };
  };
  const floor = async (intra: number, pieces: readonly (readonly number[])[]) => {
    const session = floors.get(intra)!;
    let ms = 0;
    let samples = 0;
    for (const ids of pieces) {
      const feeds = {
        input: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, ids.length]),
        input_lengths: new ort.Tensor("int64", BigInt64Array.of(BigInt(ids.length)), [1]),
        scales: scalesTensor(),
      };
      const started = performance.now();
      const output = await session.run(feeds);
      ms += performance.now() - started;
      samples += (output[session.outputNames[0]!]!.data as Float32Array).length;
    }
    return { ms, audioSeconds: samples / rate };
  };
  const piperSynth = async (text: string) => {
    const answer = await ref.synth(text);
    return { ms: answer.ms, audioSeconds: answer.samples / ref.info.sample_rate };
  };
  const peerSynth = async (peer: { synth(text: string): Promise<{ ms: number; samples: number }> }, text: string) => {
    const answer = await peer.synth(text);
    return { ms: answer.ms, audioSeconds: answer.samples / rate };
  };

  // ------------------------------------------------------------ uncached latency
  const texts = LATENCY_TEXTS.map(([chars, text]) => {
    const units = unitsOf(planSpeech(text, voice.config));
    return {
      chars,
      text,
      ids: units.map((p) => p.ids),
      pieces: units.length,
      phonemes: units.reduce((n, p) => n + p.phonemes.length, 0),
    };
  });
  // The same service through a client that offers no compression (the server then sends the WAV as is).
  const identityClient = createClient(TtsService, createGrpcTransport({ baseUrl: latencyService.baseUrl, acceptCompression: [] }));
  const latencySubjects: Record<string, (t: (typeof texts)[number]) => Promise<Omit<LatencySample, "iteration" | "chars" | "subject">>> = {
    grpc: (t) => grpc(latencyService, t.text),
    "grpc-identity": (t) => grpc({ ...latencyService, client: identityClient }, t.text),
    "grpc-default": (t) => grpc(defaultService, t.text),
    engine: (t) => engine(t.text),
    piper: (t) => piperSynth(t.text),
    floor: (t) => floor(LATENCY_INTRA, t.ids),
    "floor-1t": (t) => floor(1, t.ids),
  };
  if (sherpa) latencySubjects.sherpa = (t) => peerSynth(sherpa!, t.text);
  if (piperHttp) latencySubjects["piper-http"] = (t) => peerSynth(piperHttp!, t.text);
  const latency: LatencySample[] = [];
  for (let iteration = -WARMUP; iteration < ITERATIONS; iteration++) {
    sampler.phase = iteration < 0 ? "latency warm-up" : "latency";
    const started = performance.now();
    for (const t of shuffled(texts, random)) {
      for (const subject of shuffled(Object.keys(latencySubjects), random)) {
        await settle();
        const sample = await latencySubjects[subject]!(t);
        if (iteration >= 0) latency.push({ iteration, chars: t.chars, subject, ...sample });
      }
    }
    log(
      `latency ${iteration < 0 ? "warm-up" : "iteration"} ${iteration < 0 ? iteration + WARMUP + 1 : iteration + 1}/${iteration < 0 ? WARMUP : ITERATIONS}: ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }

  // ------------------------------------------------------------ time to first audio
  sampler.phase = "time to first audio";
  const paragraphUnits = unitsOf(planSpeech(PARAGRAPH, voice.config));
  const firstPieceIds = [paragraphUnits[0]!.ids];
  /** SynthesizeStream until its first AudioChunk, then cancelled; the server's leftover work is waited out, not counted. */
  const streamFirst = async (running: RunningService, text: string, normalization = Normalization.UNSPECIFIED) => {
    const abort = new AbortController();
    const started = performance.now();
    let startMs: number | undefined;
    let ms = Number.NaN;
    let audioBytes = 0;
    try {
      for await (const message of running.client.synthesizeStream(
        { text, config: { encoding: AudioEncoding.WAV, useCache: false, normalization } },
        { signal: abort.signal, timeoutMs: 120_000 },
      )) {
        if (message.event.case === "start") startMs = performance.now() - started;
        if (message.event.case === "chunk") {
          ms = performance.now() - started;
          audioBytes = message.event.value.audio.length;
          abort.abort();
          break;
        }
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
    // The server finishes the inference already running; wait it out.
    const drainMs = await waitIdle(running.pid);
    return { ms, startMs, drainMs, audioSeconds: audioBytes / 2 / rate };
  };
  const ttfaSubjects: Record<string, () => Promise<Omit<TtfaSample, "iteration" | "subject">>> = {
    "grpc-stream": () => streamFirst(latencyService, PARAGRAPH),
    "grpc-first-sentence": () => grpc(latencyService, PARAGRAPH_FIRST_SENTENCE),
    "engine-stream": async () => {
      const started = performance.now();
      const plan = await enginePool.plan(voice, PARAGRAPH);
      const phonemizeMs = performance.now() - started;
      for await (const piece of enginePool.synthesize(voice, plan, settings, never, true)) {
        const pcm = floatToPcm16(piece.samples, 1, false);
        return { ms: performance.now() - started, phonemizeMs, audioSeconds: pcm.length / rate };
      }
      throw new Error("no piece");
    },
    "piper-first": async () => {
      const answer = await ref.first(PARAGRAPH);
      return { ms: answer.ms, audioSeconds: answer.samples / ref.info.sample_rate };
    },
    "piper-first-sentence": () => piperSynth(PARAGRAPH_FIRST_SENTENCE),
    "floor-first-piece": () => floor(LATENCY_INTRA, firstPieceIds),
  };
  // What a stream's first audio waits for, on the voice's split parts in this thread with the
  // service's threads: the first sentence's encoder run (ENCODER_MIN_THREADS intra-op
  // threads) and the flow and decoder runs of its first window (EARLY_DECODE_WINDOWS, one
  // thread as shipped).
  const prepared = await prepareVoice(MODEL_FILE, voice.modelHash, voice.config, { intraOpThreads: 1 });
  if (prepared.graph.kind !== "split") throw new Error(`the voice runs whole: ${prepared.wholeBecause}`);
  const parts = await VoiceSession.load(prepared.graph, voice.config, { intraOpThreads: 1, windows: EARLY_DECODE_WINDOWS });
  const noiseZero = { noiseScale: 0, lengthScale: voice.config.lengthScale, noiseW: 0, durationScale: 1 };
  const encodeFirstSentence = async (text: string) => {
    const ids = planSpeech(text, voice.config).sentences[0]!.ids;
    const started = performance.now();
    const encoded = await parts.encode(ids, noiseZero, 0);
    if (encoded.kind !== "frames") throw new Error("the voice runs whole");
    return { ms: performance.now() - started, frames: encoded.frames };
  };
  for (const t of TTFA_TEXTS) {
    ttfaSubjects[`encoder:${t.key}`] = async () => ({ ms: (await encodeFirstSentence(t.text)).ms });
    ttfaSubjects[`first-window:${t.key}`] = async () => {
      const { frames } = await encodeFirstSentence(t.text);
      const window = frameWindows(frames.frames, EARLY_DECODE_WINDOWS)[0]!;
      const inputs = flowInputs(frames, window);
      const started = performance.now();
      const samples = (await parts.decode(inputs, window, 0))!;
      return { ms: performance.now() - started, audioSeconds: samples.length / rate };
    };
  }
  // Issue 13: the first AudioChunk of each text against Piper's first synthesize() chunk of the same text.
  for (const t of TTFA_TEXTS) {
    ttfaSubjects[`stream-default:${t.key}`] = () => streamFirst(defaultService, t.text);
    ttfaSubjects[`stream-latency:${t.key}`] = () => streamFirst(latencyService, t.text);
    // Piper's own level (each sentence peak-normalized) waits for the sentence's last sample.
    ttfaSubjects[`stream-peak:${t.key}`] = () => streamFirst(defaultService, t.text, Normalization.SENTENCE_PEAK);
    ttfaSubjects[`piper-first:${t.key}`] = async () => {
      const answer = await ref.first(t.text);
      return { ms: answer.ms, audioSeconds: answer.samples / ref.info.sample_rate };
    };
  }
  const ttfa: TtfaSample[] = [];
  for (let iteration = -1; iteration < TTFA_RUNS; iteration++) {
    for (const subject of shuffled(Object.keys(ttfaSubjects), random)) {
      await settle();
      const sample = await ttfaSubjects[subject]!();
      if (iteration >= 0) ttfa.push({ iteration, subject, ...sample });
    }
  }
  await parts.release();
  log(`time to first audio: ${TTFA_RUNS} runs`);

  // ------------------------------------------------------------ OpenAI route: first byte against the whole reply
  sampler.phase = "openai route";
  const openaiText = openAiRouteText();
  const openaiRoute: OpenAiRouteSample[] = [];
  for (let iteration = -1; iteration < OPENAI_ROUTE_RUNS; iteration++) {
    await settle();
    const sample = await timeOpenAiRoute(latencyService.baseUrl, openaiText);
    if (iteration >= 0) openaiRoute.push({ iteration, ...sample });
  }
  log(`OpenAI route: ${OPENAI_ROUTE_RUNS} runs`);

  // ------------------------------------------------------------ live speech: last token to first audio, cancel
  sampler.phase = "live ttfa";
  const liveTtfa = await measureLiveTtfa(defaultService.client, LIVE_TTFA_RUNS, (items) => shuffled(items, random), settle);
  log(`live time to first audio: ${LIVE_TTFA_RUNS} runs of ${LIVE_REPLIES.length} replies`);
  sampler.phase = "live cancel";
  const inProcessServer = await startInProcessServer();
  const liveCancel = await measureLiveCancel(inProcessServer, LIVE_CANCEL_RUNS, settle).finally(() => inProcessServer.app.close());
  log(`live cancel: ${LIVE_CANCEL_RUNS} runs`);

  // ------------------------------------------------------------ phonemization alone (profile)
  sampler.phase = "profile";
  const phonemize: Results["phonemize"]["samples"] = [];
  for (let i = 0; i < (quick ? 3 : 10); i++) {
    for (const [chars, text] of shuffled([...LATENCY_TEXTS, [PARAGRAPH.length, PARAGRAPH] as const], random)) {
      const started = performance.now();
      planSpeech(text, voice.config);
      const ours = performance.now() - started;
      phonemize.push({ chars, ours, piper: (await ref.phonemize(text)).ms });
    }
  }
  // The bare floor per onnxruntime build: Node's, Python's at Node's version, Python's at Piper's.
  const floorScript = join(ROOT, "bench", "lib", "ort_floor.py");
  const pyFloors = new Map<string, JsonLineProcess<{ onnxruntime: string }>>();
  if (ortPython)
    pyFloors.set(`python ${ORT_VERSIONS.node}`, await JsonLineProcess.start(ortPython, floorScript, [MODEL_FILE, String(LATENCY_INTRA)]));
  if (ref.info.onnxruntime !== ORT_VERSIONS.node)
    pyFloors.set(`python ${ref.info.onnxruntime}`, await JsonLineProcess.start(python, floorScript, [MODEL_FILE, String(LATENCY_INTRA)]));
  const builds: Record<string, (t: (typeof texts)[number]) => Promise<number>> = {
    [`node ${ORT_VERSIONS.node}`]: async (t) => (await floor(LATENCY_INTRA, t.ids)).ms,
  };
  for (const [name, child] of pyFloors) {
    builds[name] = async (t) =>
      (
        await child.request<{ ms: number }>({
          pieces: t.ids,
          scales: [settings.scales.noiseScale, settings.scales.lengthScale, settings.scales.noiseW],
        })
      ).ms;
  }
  const ortBuilds: Results["ortBuilds"]["samples"] = [];
  for (let i = -1; i < (quick ? 2 : 10); i++) {
    for (const t of shuffled(texts, random)) {
      for (const build of shuffled(Object.keys(builds), random)) {
        await settle();
        const ms = await builds[build]!(t);
        if (i >= 0) ortBuilds.push({ chars: t.chars, build, ms });
      }
    }
  }
  for (const child of pyFloors.values()) await child.stop();
  log(`onnxruntime builds compared: ${Object.keys(builds).join(", ")}`);
  const piperMemory = await ref.request<{ rss_bytes: number; hwm_bytes: number }>({ op: "rss" });
  const peerMemory: MemoryReading[] = [];
  if (sherpa) {
    const m = await sherpa.rss();
    peerMemory.push({
      label: `sherpa-onnx-node process (one voice, ${SHERPA_THREADS} threads)`,
      rssBytes: m.rss_bytes,
      hwmBytes: m.hwm_bytes,
    });
  }
  if (piperHttp) peerMemory.push({ label: "Piper http_server process (one voice)", ...memoryStatus(piperHttp.pid) });
  // Done with the peers: their processes leave the machine before throughput and memory are measured.
  await sherpa?.stop();
  await piperHttp?.stop();

  // ------------------------------------------------------------ throughput
  sampler.phase = "throughput";
  const oversubscribed = await service(OVERSUBSCRIBED_SERVICE, SERVICES[OVERSUBSCRIBED_SERVICE]!);
  const throughputServices = [latencyService, defaultService, oversubscribed];
  const batch = async (running: RunningService, concurrency: number) => {
    const requestMs: number[] = [];
    let audioSeconds = 0;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < BATCH.length) {
          const text = BATCH[next++]!;
          const result = await grpc(running, text);
          requestMs.push(result.ms);
          audioSeconds += result.audioSeconds;
        }
      }),
    );
    return { wallMs: performance.now() - started, audioSeconds, requestMs };
  };
  for (const running of throughputServices) await batch(running, 2); // warm the second worker's arena
  const throughput: ThroughputSample[] = [];
  for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
    for (const concurrency of shuffled(CONCURRENCY, random)) {
      for (const running of shuffled(throughputServices, random)) {
        const result = await batch(running, concurrency);
        throughput.push({ round, config: running.name, concurrency, requests: BATCH.length, ...result });
      }
    }
    log(`throughput round ${round + 1}/${THROUGHPUT_ROUNDS}`);
  }
  const others: MemoryReading[] = throughputServices.map((s) => ({ label: s.name, ...memoryStatus(s.pid) }));
  others.push({ label: "Piper reference (Python, one voice)", rssBytes: piperMemory.rss_bytes, hwmBytes: piperMemory.hwm_bytes });
  for (const running of throughputServices) await stopService(running);

  // ------------------------------------------------------------ cache hits
  sampler.phase = "cache";
  const cacheResults = await measureCache(voice, catalog);

  // ------------------------------------------------------------ memory
  sampler.phase = "memory";
  const memory = await measureMemory();
  const probes = await probeMemory(voice);

  // ------------------------------------------------------------ live speech: concurrent streams
  sampler.phase = "live streams";
  const liveStreams = await measureLiveStreamsSection();

  const load = sampler.stop();
  const finishedAt = new Date();
  return {
    schema: 2,
    mode: quick ? "quick" : "full",
    note: process.env.BENCH_NOTE,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    machine: machine(),
    versions: {
      node: process.version,
      onnxruntimeNode: ORT_VERSIONS.node,
      onnxruntimeCommon: ORT_VERSIONS.common,
      piper: ref.info,
      gitCommit: git(["rev-parse", "--short", "HEAD"]),
      gitDirty: git(["status", "--porcelain", "--", "src", "bench", "package.json"]) !== "",
    },
    settings: {
      voice: VOICE,
      iterations: ITERATIONS,
      warmup: WARMUP,
      ttfaRuns: TTFA_RUNS,
      throughputRounds: THROUGHPUT_ROUNDS,
      throughputBatch: BATCH.length,
      cacheLookups: CACHE_LOOKUPS,
      loopbackCacheRounds: LOOPBACK_CACHE_ROUNDS,
      seed: SEED,
      settleMs: SETTLE_MS,
      services: Object.fromEntries(serviceRecords),
      engine: { intraOpThreads: LATENCY_INTRA, workers: 1 },
      floor: { intraOpThreads: [LATENCY_INTRA, 1], sessionOptions: { ...FLOOR_SESSION_OPTIONS } },
    },
    load,
    latency: {
      texts: texts.map(({ chars, text, pieces, phonemes }) => ({ chars, text, pieces, phonemes })),
      subjects: Object.keys(latencySubjects),
      samples: latency,
    },
    peers,
    ttfaTexts: TTFA_TEXTS.map((t) => ({
      key: t.key,
      label: t.label,
      chars: t.text.length,
      sentences: new Set(unitsOf(planSpeech(t.text, voice.config)).map((u) => u.sentenceIndex)).size,
    })),
    baseline,
    ttfa: {
      paragraphChars: PARAGRAPH.length,
      firstSentenceChars: PARAGRAPH_FIRST_SENTENCE.length,
      paragraphPieces: paragraphUnits.length,
      samples: ttfa,
    },
    openaiRoute: { chars: openaiText.length, format: "pcm", service: LATENCY_SERVICE, samples: openaiRoute },
    liveTtfa: { tokenGapMs: TOKEN_GAP_MS, service: DEFAULT_SERVICE, replies: LIVE_REPLIES, samples: liveTtfa },
    liveCancel: { server: inProcessServer.settings, chars: CANCEL_TEXT.length, samples: liveCancel },
    liveStreams,
    phonemize: { samples: phonemize },
    ortBuilds: { builds: Object.keys(builds), samples: ortBuilds },
    cache: cacheResults,
    throughput: { texts: BATCH.length, levels: CONCURRENCY, samples: throughput },
    memory: { ...memory, piper: others.at(-1)!, others: [...others.slice(0, -1), ...peerMemory], probes },
  };
}

async function stopService(running: RunningService): Promise<void> {
  await running.stop();
  services.delete(running.name);
}

/**
 * Cache hits. In process: AudioCache.get of a memory entry holding the real WAV of the
 * 100-character text, and the whole hit path of Synthesizer.synthesize before the transport
 * (planSpeech + cacheKey + get). Over loopback (issue 12): unary Synthesize with the cache on,
 * the second and later identical calls, against a service with the default settings, from
 * every client a user might pick, interleaved: the project's own @aetheros/tts-client (4 MiB
 * HTTP/2 windows), connect-node's gRPC transport as is (Node's 64 KiB windows; offers gzip) and
 * without compression, @grpc/grpc-js with its defaults; then ghz and grpcurl with theirs. Texts:
 * the latency texts and one of LONG_HIT_CHARS characters, whose hit's server-side time
 * (generation_time_ms) must not grow with the text.
 */
async function measureCache(voice: VoiceModel, catalog: VoiceCatalog): Promise<Results["cache"]> {
  const cacheDir = await mkdtemp(join(tmpdir(), "tts-bench-cache-"));
  const cached = await service("cache on (defaults)", { intraOpThreads: 1, workers: 2, cacheEnabled: true, env: { CACHE_DIR: cacheDir } });
  const grpcJs = grpcJsSynthesize(cached.baseUrl);
  try {
    const loopbackMissMs: number[] = [];
    const wavByChars = new Map<number, Uint8Array>();
    let entryBytes: Uint8Array | undefined;
    const hitTexts: Array<readonly [number, string]> = [...LATENCY_TEXTS, [LONG_HIT_CHARS, longText(LONG_HIT_CHARS)]];
    const request = (text: string): SynthesizeInit => ({ text, config: { encoding: AudioEncoding.WAV, useCache: true } });
    for (const [chars, text] of hitTexts) {
      const started = performance.now();
      const response = await cached.client.synthesize(request(text), { timeoutMs: 600_000 });
      if (response.cached) throw new Error(`the cache of a fresh service already held the ${chars}-character text`);
      log(`cache: ${chars}-character miss ${Math.round(performance.now() - started)} ms, ${response.audio.length} bytes of WAV`);
      if (chars !== LONG_HIT_CHARS) {
        loopbackMissMs.push(performance.now() - started);
        wavByChars.set(chars, response.audio);
      }
      if (chars === 100) entryBytes = response.audio;
    }
    // A client that does not offer gzip: the server then sends the audio uncompressed.
    const identity = createClient(TtsService, createGrpcTransport({ baseUrl: cached.baseUrl, acceptCompression: [] }));
    const ttsClient = createTtsClient({ baseUrl: cached.baseUrl });
    const clients: Record<string, (r: SynthesizeInit) => Promise<{ cached: boolean; generationTimeMs: number }>> = {
      "tts-client": (r) => ttsClient.synthesize(r, { timeoutMs: 120_000 }),
      default: (r) => cached.client.synthesize(r, { timeoutMs: 120_000 }),
      identity: (r) => identity.synthesize(r, { timeoutMs: 120_000 }),
      "grpc-js": (r) => grpcJs.call(r),
    };
    const clientRecords: NonNullable<Results["cache"]["clients"]> = {
      "tts-client": { label: "@aetheros/tts-client (clients/node)", windowBytes: DEFAULT_WINDOW_BYTES },
      default: { label: "connect-node createGrpcTransport as is (offers gzip)" },
      identity: { label: "connect-node createGrpcTransport, acceptCompression: []" },
      "grpc-js": { label: "@grpc/grpc-js Client, default options" },
    };
    // Which client takes which text: a refusal (grpc-js's 4 MiB receive limit on the long WAV) is a finding, not a failure.
    const refused: NonNullable<Results["cache"]["refused"]> = [];
    const pairs: Array<[string, number, string]> = [];
    for (const [chars, text] of hitTexts) {
      for (const client of Object.keys(clients)) {
        // grpc-js is probed on a channel of its own: after refusing an oversized response, its channel
        // failed the next calls too (RESOURCE_EXHAUSTED "Bandwidth exhausted"), which is recorded below.
        const probe = client === "grpc-js" ? grpcJsSynthesize(cached.baseUrl) : undefined;
        const call = probe ? probe.call : clients[client]!;
        try {
          const response = await call(request(text));
          if (!response.cached) throw new Error(`${client}: the second identical call was not a cache hit`);
          pairs.push([client, chars, text]);
        } catch (error) {
          refused.push({ client, chars, code: statusName(error), message: (error as Error).message.slice(0, 300) });
          log(`cache: ${client} refused the ${chars}-character hit: ${(error as Error).message.slice(0, 200)}`);
          if (probe) {
            const next = LATENCY_TEXTS[0]!;
            try {
              await probe.call(request(next[1]));
            } catch (after) {
              const message = `the next call on the same channel (${next[0]} characters) failed too: ${(after as Error).message.slice(0, 200)}`;
              refused.push({ client: `${client}, same channel afterwards`, chars: next[0], code: statusName(after), message });
              log(`cache: ${client}: ${message}`);
            }
          }
        } finally {
          probe?.close();
        }
      }
    }
    const hit = async (client: string, text: string) => {
      const started = performance.now();
      const response = await clients[client]!(request(text));
      const ms = performance.now() - started;
      if (!response.cached) throw new Error("the second identical call was not a cache hit");
      return { ms, serverMs: response.generationTimeMs };
    };
    for (let i = 0; i < 10; i++) for (const [client, , text] of pairs) await hit(client, text); // warm-up
    const loopback: Results["cache"]["loopback"] = [];
    for (let round = 0; round < LOOPBACK_CACHE_ROUNDS; round++) {
      for (const [client, chars, text] of shuffled(pairs, random)) loopback.push({ chars, client, ...(await hit(client, text)) });
    }
    log(`cache: ${loopback.length} loopback hits from ${Object.keys(clients).length} clients`);
    // Go's gRPC through ghz and grpcurl, with their defaults, on the 100-character text.
    const text100 = LATENCY_TEXTS.find(([chars]) => chars === 100)![1];
    const jsonRequest = { text: text100, config: { encoding: "AUDIO_ENCODING_WAV", use_cache: true } };
    let ghz: Results["cache"]["ghz"];
    const ghzBin = tool(ROOT, "ghz");
    try {
      if (!ghzBin) throw new Error("no .tools/bin/ghz (node tools/prerequisites.mjs test installs it)");
      ghz = { chars: 100, ...(await ghzUnary(ghzBin, cached.baseUrl, jsonRequest, GHZ_CALLS)) };
      const long = await ghzUnary(ghzBin, cached.baseUrl, { ...jsonRequest, text: hitTexts.at(-1)![1] }, 1);
      for (const [message, n] of Object.entries(long.errors))
        if (n > 0) refused.push({ client: "ghz", chars: LONG_HIT_CHARS, code: "error", message: message.slice(0, 300) });
    } catch (error) {
      ghz = { unavailable: (error as Error).message.slice(0, 300) };
    }
    let grpcurl: Results["cache"]["grpcurl"];
    const grpcurlBin = tool(ROOT, "grpcurl");
    try {
      if (!grpcurlBin) throw new Error("no .tools/bin/grpcurl (node tools/prerequisites.mjs test installs it)");
      await grpcurlUnary(grpcurlBin, cached.baseUrl, jsonRequest);
      const ms: number[] = [];
      for (let i = 0; i < GRPCURL_CALLS; i++) ms.push(await grpcurlUnary(grpcurlBin, cached.baseUrl, jsonRequest));
      grpcurl = { chars: 100, ms };
    } catch (error) {
      grpcurl = { unavailable: (error as Error).message.slice(0, 300) };
    }
    // What gzip costs on these WAV files: the server compresses for any client that offers it.
    const gzip: Results["cache"]["gzip"] = [];
    for (let i = 0; i < (quick ? 3 : 20); i++) {
      for (const [chars, bytes] of wavByChars) {
        const started = performance.now();
        const compressed = await gzipAsync(bytes);
        const compressedAt = performance.now();
        await gunzipAsync(compressed);
        gzip.push({
          chars,
          bytes: bytes.length,
          gzipBytes: compressed.length,
          gzipMs: compressedAt - started,
          gunzipMs: performance.now() - compressedAt,
        });
      }
    }
    // Does the server compress for a client that offers gzip? (It did until src/server/server.ts turned it off.)
    let responseEncoding = "identity";
    await cached.client.synthesize(
      { text: LATENCY_TEXTS[0]![1], config: { encoding: AudioEncoding.WAV, useCache: true } },
      { onHeader: (headers) => (responseEncoding = headers.get("grpc-encoding") ?? "identity") },
    );
    const stats = await cached.client.getCacheStats({});
    const tierStats = stats.tiers.map((t) => ({
      tier: t.tier,
      hits: Number(t.hits),
      misses: Number(t.misses),
      entries: Number(t.entries),
      sizeBytes: Number(t.sizeBytes),
    }));

    const text = LATENCY_TEXTS.find(([chars]) => chars === 100)![1];
    const memory = await openAudioCache({
      enabled: true,
      sizeBytes: 64 * 1024 * 1024,
      maxEntries: 1000,
      ttlSeconds: 3600,
      logger: pino({ level: "silent" }),
    });
    const keyOf = (t: string): string =>
      cacheKey({
        text: t,
        voice: VOICE,
        speakerId: 0,
        speed: 1,
        pitch: 1,
        volume: 1,
        peakNormalized: false,
        noiseScale: voice.config.noiseScale,
        noiseW: voice.config.noiseW,
        sentenceSilence: 0,
        encoding: "wav",
        sampleRate: voice.config.sampleRate,
        modelHash: voice.modelHash,
      });
    const audio: CachedAudio = {
      bytes: entryBytes!,
      encoding: "wav",
      sampleRate: voice.config.sampleRate,
      durationSeconds: (entryBytes!.length - 44) / 2 / voice.config.sampleRate,
      modelUsed: `piper:${VOICE}`,
    };
    const key = keyOf(text);
    memory.put(key, audio);
    const lookup = async (k: string): Promise<void> => {
      const hit = await memory.get(k);
      if (hit?.tier !== "memory") throw new Error("expected a memory hit");
    };
    for (let i = 0; i < 500; i++) await lookup(key);
    const inProcessMs: number[] = [];
    for (let i = 0; i < CACHE_LOOKUPS; i++) {
      const started = performance.now();
      await lookup(key);
      inProcessMs.push(performance.now() - started);
    }
    const hitPathMs: number[] = [];
    for (let i = 0; i < CACHE_LOOKUPS / 10; i++) {
      const started = performance.now();
      await catalog.voice(VOICE);
      await lookup(keyOf(text));
      hitPathMs.push(performance.now() - started);
    }
    await memory.close();
    log(`cache: ${inProcessMs.length} in-process lookups`);
    return {
      entryBytes: entryBytes!.length,
      inProcessMs,
      hitPathMs,
      loopback,
      clients: clientRecords,
      textChars: Object.fromEntries(hitTexts.map(([chars, text]) => [chars, text.length])),
      refused,
      ghz,
      grpcurl,
      loopbackMissMs,
      gzip,
      responseEncoding,
      stats: { tiers: tierStats },
    };
  } finally {
    grpcJs.close();
    await stopService(cached);
    await rm(cacheDir, { recursive: true, force: true });
  }
}

/**
 * Live streams (issue 14) on a child-process service with the shipped limits, cache off:
 * every stream the same client (127.0.0.1), then on another with API_KEYS, a key per stream.
 */
async function measureLiveStreamsSection(): Promise<Results["liveStreams"]> {
  const keys = streamKeys(Math.max(...LIVE_STREAM_LEVELS));
  const levels: NonNullable<Results["liveStreams"]>["levels"] = [];
  for (const keyed of [false, true]) {
    const running = await service(keyed ? "live streams, a key per stream" : "live streams", {
      intraOpThreads: 1,
      workers: 2,
      cacheEnabled: false,
      env: keyed ? { API_KEYS: keys.join(",") } : {},
    });
    try {
      levels.push(...(await measureLiveStreams(running.baseUrl, running.pid, keyed ? keys : undefined, LIVE_STREAM_LEVELS, random, log)));
    } finally {
      await stopService(running);
    }
  }
  return { service: "live streams", turns: TURNS, turnPeriodMs: TURN_PERIOD_MS, tokenGapMs: TOKEN_GAP_MS, levels };
}

/**
 * Resident memory of a child-process service with the default settings (2 workers, one
 * intra-op thread each, cache off): the default voice alone, then three voices (copies of
 * the default voice's two files under other names in a temporary MODELS_DIR).
 */
async function measureMemory(): Promise<{ service: string; longestSentenceChars: number; readings: MemoryReading[] }> {
  const dir = await mkdtemp(join(tmpdir(), "tts-bench-models-"));
  const ids = [VOICE, `${VOICE}-copy2`, `${VOICE}-copy3`];
  for (const id of ids) {
    await copyFile(MODEL_FILE, join(dir, `${id}.onnx`));
    await copyFile(`${MODEL_FILE}.json`, join(dir, `${id}.onnx.json`));
  }
  const name = "memory (defaults)";
  const running = await service(name, { intraOpThreads: 1, workers: 2, cacheEnabled: false, env: { MODELS_DIR: dir } });
  try {
    const readings: MemoryReading[] = [];
    const read = (label: string): void => void readings.push({ label, ...memoryStatus(running.pid) });
    const text = LATENCY_TEXTS.at(-1)![1];
    const speak = (voiceId: string) =>
      running.client.synthesize({ text, config: { voice: voiceId, encoding: AudioEncoding.WAV, useCache: false } }, { timeoutMs: 120_000 });
    read("serving (default voice loaded and warmed)");
    for (let i = 0; i < 4; i++) await Promise.all([speak(VOICE), speak(VOICE)]);
    read("default voice, after 8 syntheses of the 200-character text (2 at a time)");
    // Issue 13: the longest input the shipped defaults accept, as ONE sentence.
    const started = performance.now();
    await running.client.synthesize(
      { text: oneSentence(MAX_TEXT_LENGTH), config: { voice: VOICE, encoding: AudioEncoding.WAV, useCache: false } },
      { timeoutMs: 1_800_000 },
    );
    log(`memory: one ${MAX_TEXT_LENGTH}-character sentence took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    read(`default voice, after one sentence of MAX_TEXT_LENGTH (${MAX_TEXT_LENGTH}) characters`);
    for (const id of ids.slice(1)) for (let i = 0; i < 2; i++) await Promise.all([speak(id), speak(id)]);
    read("three voices loaded, after 4 syntheses on each copy");
    log(`memory: ${readings.map((r) => `${r.label}: ${(r.rssBytes / 2 ** 20).toFixed(0)} MiB`).join("; ")}`);
    return { service: name, longestSentenceChars: MAX_TEXT_LENGTH, readings };
  } finally {
    await stopService(running);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Where one session's memory goes: bench/lib/memory-probe.ts in a process of its own, with the
 * service's session options (and the CPU arena off for comparison), on the 200-character
 * text and on one long sentence.
 */
async function probeMemory(voice: VoiceModel): Promise<Results["memory"]["probes"]> {
  const dir = await mkdtemp(join(tmpdir(), "tts-bench-probe-"));
  try {
    const workloads: Array<[string, number[][]]> = [
      [`the ${LATENCY_TEXTS.at(-1)![0]}-character text`, unitsOf(planSpeech(LATENCY_TEXTS.at(-1)![1], voice.config)).map((p) => p.ids)],
      ["the first inference of LONG_SENTENCE (bench/lib/texts.ts)", [unitsOf(planSpeech(LONG_SENTENCE, voice.config))[0]!.ids]],
    ];
    const shipped = { ...FLOOR_SESSION_OPTIONS, intraOpNumThreads: 1 };
    const variants: Array<[string, Record<string, unknown>, number]> = [
      ["service session options", shipped, 0],
      ["service session options", shipped, 1],
      ["CPU arena off", { ...shipped, enableCpuMemArena: false }, 1],
    ];
    const probes: Results["memory"]["probes"] = [];
    for (const [label, options, workload] of variants) {
      const [workloadLabel, pieces] = workloads[workload]!;
      const idsFile = join(dir, `ids-${workload}.json`);
      await writeFile(idsFile, JSON.stringify(pieces));
      const output = execFileSync(
        process.execPath,
        ["--import", "tsx", join(ROOT, "bench", "lib", "memory-probe.ts"), MODEL_FILE, JSON.stringify(options), idsFile],
        { cwd: ROOT, encoding: "utf8" },
      );
      const probe = JSON.parse(output.trim().split("\n").at(-1)!) as {
        readings: Array<{ label: string; rssBytes: number }>;
        hwmBytes: number;
      };
      probes.push({ options: label, workload: workloadLabel, ids: Math.max(...pieces.map((p) => p.length)), ...probe });
    }
    return probes;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The plan's units of inference: `pieces` in today's engine, `sentences` once the windowed
 * engine lands (issue 13). Read either, so the harness runs before and after that change.
 */
interface PlanUnit {
  sentenceIndex: number;
  phonemes: string[];
  ids: number[];
}
function unitsOf(plan: Plan): PlanUnit[] {
  const either = plan as unknown as { pieces?: PlanUnit[]; sentences?: PlanUnit[] };
  const units = either.sentences ?? either.pieces;
  if (!units) throw new Error("planSpeech returned neither sentences nor pieces: update unitsOf in bench/run.ts");
  return units;
}

/** The figures of an earlier run to compare with; undefined when there is none. */
async function readBaseline(file: string): Promise<Baseline | undefined> {
  if (!existsSync(file)) return undefined;
  const old = parseResults(await readFile(file, "utf8"));
  // Audio seconds per wall-clock second over all batches of a service and level, as the report computes it.
  const throughput: Baseline["throughput"] = {};
  for (const sample of old.throughput.samples) {
    const level = ((throughput[sample.config] ??= {})[sample.concurrency] ??= 0);
    throughput[sample.config]![sample.concurrency] = level + sample.audioSeconds;
  }
  for (const [config, levels] of Object.entries(throughput)) {
    for (const level of Object.keys(levels).map(Number)) {
      const wallSeconds = old.throughput.samples
        .filter((s) => s.config === config && s.concurrency === level)
        .reduce((n, s) => n + s.wallMs / 1000, 0);
      levels[level] = levels[level]! / wallSeconds;
    }
  }
  const reading = (prefix: string) => old.memory.readings.find((r) => r.label.startsWith(prefix))?.rssBytes ?? Number.NaN;
  const latency: Baseline["latency"] = {};
  for (const subject of old.latency.subjects) {
    for (const { chars } of old.latency.texts) {
      (latency[subject] ??= {})[chars] = median(
        old.latency.samples.filter((s) => s.subject === subject && s.chars === chars).map((s) => s.ms),
      );
    }
  }
  return {
    file: file.startsWith(ROOT) ? file.slice(ROOT.length) : file,
    mode: old.mode,
    startedAt: old.startedAt,
    gitCommit: old.versions.gitCommit,
    foreignCores: mean(old.load.samples.map((s) => s.foreignCores)),
    throughput,
    throughputBatch: old.settings.throughputBatch,
    memory: { serving: reading("serving"), afterLoad: reading("default voice"), piper: old.memory.piper.rssBytes },
    latency,
  };
}

function machine(): Results["machine"] {
  const cpuinfo = execFileSync("cat", ["/proc/cpuinfo"], { encoding: "utf8" });
  return {
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    hypervisor: /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo) ? "virtual machine (cpuinfo flag 'hypervisor')" : undefined,
  };
}

function git(gitArgs: string[]): string {
  try {
    return execFileSync("git", gitArgs, { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

/** The floor must use the session options the service uses; fail loudly if inference.ts changed. */
async function checkFloorOptions(): Promise<void> {
  const source = await readFile(join(ROOT, "src", "engine", "inference.ts"), "utf8");
  const expected = [
    'executionProviders: ["cpu"]',
    "intraOpNumThreads: threads",
    ...Object.entries(FLOOR_SESSION_OPTIONS)
      .filter(([key]) => key !== "executionProviders")
      .map(([key, value]) => `${key}: ${JSON.stringify(value)}`),
  ];
  const missing = expected.filter((line) => !source.includes(line));
  if (missing.length > 0) {
    throw new Error(
      `src/engine/inference.ts no longer sets ${missing.join(", ")}: update FLOOR_SESSION_OPTIONS in bench/run.ts so the floor matches the service`,
    );
  }
}
