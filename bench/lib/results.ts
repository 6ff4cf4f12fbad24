/** The shape of bench/results/latest.json: settings, machine, load and every raw sample. */
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

export interface Results {
  schema: 1;
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
    /** client "default": connect-node's gRPC client as is (offers gzip); "identity": acceptCompression [] */
    loopback: Array<{ chars: number; client: "default" | "identity"; ms: number; serverMs: number }>;
    /** zlib gzip/gunzip (default level, as connect uses) of each text's WAV, in this process. */
    gzip: Array<{ chars: number; bytes: number; gzipBytes: number; gzipMs: number; gunzipMs: number }>;
    /** grpc-encoding of a response to connect-node's client as is (which offers gzip). */
    responseEncoding: string;
    loopbackMissMs: number[];
    stats: unknown;
  };
  throughput: { texts: number; levels: number[]; samples: ThroughputSample[] };
  memory: {
    service: string;
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
  const body = Object.entries(results)
    .map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value, round)}`)
    .join(",\n");
  return `{\n${body}\n}\n`;
}
