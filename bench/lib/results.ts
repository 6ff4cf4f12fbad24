/** The shape of bench/results/latest.json: settings, machine, load and every raw sample. */
import type { LiveCancelResults } from "./live-cancel.js";
import type { LiveStreamsResults } from "./live-streams.js";
import type { LiveTtfaResults } from "./live-ttfa.js";
import type { OpenAiRouteResults } from "./openai-route.js";
import type { PiperInfo } from "./piper.js";
import type { LoadReport } from "./procs.js";

export interface ServiceConfigRecord {
  /** ONNX_INTRA_OP_THREADS */
  intraOpThreads: number;
  /** MAX_CONCURRENT_REQUESTS (inference worker threads) */
  workers: number;
  cacheEnabled: boolean;
  /** Every variable the harness set for the child process. */
  env: Record<string, string>;
  startupMs: number;
}

export interface LatencySample {
  iteration: number;
  chars: number;
  subject: string;
  ms: number;
  audioSeconds: number;
  /** Service: generation_time_ms the server reported. */
  serverMs?: number;
  /** Engine: per-stage times (encode is measured after the timed region, not part of ms). */
  stages?: { phonemizeMs: number; inferenceMs: number; pcmMs: number; encodeWavMs: number };
}

export interface TtfaSample {
  iteration: number;
  subject: string;
  ms: number;
  /** Service stream: time to the StreamStart message. Engine: phonemizing the whole paragraph. */
  startMs?: number;
  phonemizeMs?: number;
  audioSeconds?: number;
  serverMs?: number;
  /** Service stream: time the server needed to go idle after the cancel (not part of ms). */
  drainMs?: number;
}

export interface ThroughputSample {
  round: number;
  config: string;
  concurrency: number;
  requests: number;
  wallMs: number;
  audioSeconds: number;
  requestMs: number[];
}

export interface MemoryReading {
  label: string;
  rssBytes: number;
  hwmBytes: number;
}

/** Figures of an earlier run (bench/results/latest.json before this run, or BENCH_BASELINE), to compare against. */
export interface Baseline {
  file: string;
  mode: "full" | "quick";
  startedAt: string;
  gitCommit: string;
  /** Mean cores other processes used during that run. */
  foreignCores: number;
  /** Audio seconds per second, by service name and concurrency. */
  throughput: Record<string, Record<number, number>>;
  throughputBatch: number;
  /** RSS of the shipped-defaults service: serving, after load (the readings of that run's memory section). */
  memory: { serving: number; afterLoad: number; piper: number };
  /** Median ms by subject and characters. */
  latency: Record<string, Record<number, number>>;
}

/** Another implementation timed on the same texts, interleaved with the others (issue 13 item 6). */
export interface PeerRecord {
  /** What ran, with which settings. */
  description: string;
  version: string;
  /** Why it did not run, when it did not. */
  unavailable?: string;
}

export interface CacheClientRecord {
  label: string;
  /** HTTP/2 flow-control window of each stream, in bytes (undefined: the library's default). */
  windowBytes?: number;
}

export interface Results {
  schema: 1 | 2;
  mode: "full" | "quick";
  note: string | undefined;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  machine: { cpuModel: string; cores: number; memoryGiB: number; kernel: string; hypervisor: string | undefined };
  versions: { node: string; onnxruntimeNode: string; onnxruntimeCommon: string; piper: PiperInfo; gitCommit: string; gitDirty: boolean };
  settings: {
    voice: string;
    iterations: number;
    warmup: number;
    ttfaRuns: number;
    throughputRounds: number;
    throughputBatch: number;
    cacheLookups: number;
    loopbackCacheRounds: number;
    seed: number;
    /** Idle pause before each timed single call (latency, time to first audio, builds). */
    settleMs: number;
    services: Record<string, ServiceConfigRecord>;
    engine: { intraOpThreads: number; workers: number };
    floor: { intraOpThreads: number[]; sessionOptions: Record<string, unknown> };
  };
  load: LoadReport;
  latency: {
    texts: Array<{ chars: number; text: string; pieces: number; phonemes: number }>;
    subjects: string[];
    samples: LatencySample[];
  };
  ttfa: { paragraphChars: number; firstSentenceChars: number; paragraphPieces: number; samples: TtfaSample[] };
  phonemize: { samples: Array<{ chars: number; ours: number; piper: number }> };
  /** The bare floor (intra 2, the service's session options) per onnxruntime build: "node X", "python X". */
  ortBuilds: { builds: string[]; samples: Array<{ chars: number; build: string; ms: number }> };
  cache: {
    entryBytes: number;
    inProcessMs: number[];
    /** planSpeech + cacheKey + AudioCache.get: the work a hit costs in Synthesizer.synthesize before the transport. */
    hitPathMs: number[];
    /**
     * client "default": connect-node's gRPC client as is (offers gzip); "identity": acceptCompression [];
     * schema 2 adds "tts-client" (@aetheros/tts-client, 4 MiB windows) and "grpc-js" (@grpc/grpc-js, defaults).
     */
    loopback: Array<{ chars: number; client: string; ms: number; serverMs: number }>;
    /** Schema 2: the clients of `loopback`, and the texts' exact lengths by nominal size. */
    clients?: Record<string, CacheClientRecord>;
    textChars?: Record<number, number>;
    /** Schema 2: calls a client refused (e.g. a response over its receive limit), with the error. */
    refused?: Array<{ client: string; chars: number; code: string; message: string }>;
    /** Schema 2: ghz (its own client, defaults), per-call latencies of unary hits on the 100-character text. */
    ghz?: { version: string; chars: number; ms: number[]; errors: Record<string, number> } | { unavailable: string };
    /** Schema 2: one grpcurl process per call (process start, reflection and the call), 100 characters. */
    grpcurl?: { chars: number; ms: number[] } | { unavailable: string };
    /** zlib gzip/gunzip (default level, as connect uses) of each text's WAV, in this process. */
    gzip: Array<{ chars: number; bytes: number; gzipBytes: number; gzipMs: number; gunzipMs: number }>;
    /** grpc-encoding of a response to connect-node's client as is (which offers gzip). */
    responseEncoding: string;
    loopbackMissMs: number[];
    stats: unknown;
  };
  throughput: { texts: number; levels: number[]; samples: ThroughputSample[] };
  /** Schema 2: peers by latency subject name ("sherpa", "piper-http"). */
  peers?: Record<string, PeerRecord>;
  /** Schema 2: time to first audio on the texts of bench/lib/texts.ts TTFA_TEXTS. */
  ttfaTexts?: Array<{ key: string; label: string; chars: number; sentences: number }>;
  baseline?: Baseline;
  /** Time to first byte and to the last of a ~30 s reply through POST /v1/audio/speech (absent before it streamed). */
  openaiRoute?: OpenAiRouteResults;
  /** Live speech (issue 14; absent before it was measured): StreamingSynthesize fed token by token against SynthesizeStream. */
  liveTtfa?: LiveTtfaResults;
  /** Cancel of a live utterance to its synthesis slot free. */
  liveCancel?: LiveCancelResults;
  /** Concurrent live streams on one replica with the shipped limits. */
  liveStreams?: LiveStreamsResults;
  memory: {
    service: string;
    /** Schema 2: MAX_TEXT_LENGTH of the shipped defaults, spoken as one sentence for a reading. */
    longestSentenceChars?: number;
    readings: MemoryReading[];
    piper: MemoryReading;
    others: MemoryReading[];
    /** One bare session in a process of its own (bench/lib/memory-probe.ts). */
    probes: Array<{
      options: string;
      workload: string;
      ids: number;
      readings: Array<{ label: string; rssBytes: number }>;
      hwmBytes: number;
    }>;
  };
}

/** latest.json text: numbers to 0.1 µs (4 decimals of a millisecond), one top-level key per line block. */
export function serializeResults(results: Results): string {
  const round = (_key: string, value: unknown): unknown =>
    typeof value === "number" && !Number.isInteger(value) ? Math.round(value * 1e4) / 1e4 : value;
  // JSON has no undefined: leave such keys out (schema 1 wrote `"note": undefined`, which is not JSON).
  const body = Object.entries(results)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value, round)}`)
    .join(",\n");
  return `{\n${body}\n}\n`;
}

/** Reads a results file; tolerates the `"note": undefined` that earlier runs wrote. */
export function parseResults(text: string): Results {
  return JSON.parse(text.replace(/^("[A-Za-z]+"): undefined(,?)$/gm, "$1: null$2")) as Results;
}
