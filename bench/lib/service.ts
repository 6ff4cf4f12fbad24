/**
 * The service under test as a child process: `node --import tsx src/server/main.ts` on a
 * free loopback port (SERVICE_PORT=0, the port read from its "listening" log line), with an
 * environment that states every setting that matters here.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";

export interface ServiceSettings {
  /** ONNX_INTRA_OP_THREADS */
  intraOpThreads: number;
  /** MAX_CONCURRENT_REQUESTS: inference worker threads. */
  workers: number;
  cacheEnabled: boolean;
  /** Extra environment (MODELS_DIR, CACHE_DIR, ...). */
  env?: Record<string, string>;
}

export interface RunningService {
  readonly name: string;
  readonly settings: ServiceSettings;
  /** The environment the service was started with (the variables this harness set). */
  readonly envSet: Record<string, string>;
  readonly pid: number;
  readonly baseUrl: string;
  readonly client: Client<typeof TtsService>;
  /** Milliseconds from spawn to "serving" (voice loaded and warmed in every worker). */
  readonly startupMs: number;
  stop(): Promise<void>;
}

/** Variables that would change the service's behaviour if inherited from the caller's shell. */
const SERVICE_VARIABLES = [
  "SERVICE_HOST",
  "SERVICE_PORT",
  "LOG_LEVEL",
  "MODELS_DIR",
  "PIPER_MODEL_NAME",
  "MAX_LOADED_VOICES",
  "MAX_TEXT_LENGTH",
  "STREAM_CHUNK_SIZE",
  "CACHE_ENABLED",
  "CACHE_DIR",
  "CACHE_SIZE_MB",
  "CACHE_MAX_ENTRIES",
  "CACHE_TTL_SECONDS",
  "REDIS_URL",
  "MAX_CONCURRENT_REQUESTS",
  "MAX_QUEUE_SIZE",
  "MAX_REQUESTS_PER_MINUTE",
  "SHUTDOWN_GRACE_SECONDS",
  "ONNX_INTRA_OP_THREADS",
];

export async function startService(name: string, root: string, settings: ServiceSettings): Promise<RunningService> {
  const envSet: Record<string, string> = {
    SERVICE_HOST: "127.0.0.1",
    SERVICE_PORT: "0",
    LOG_LEVEL: "info",
    ONNX_INTRA_OP_THREADS: String(settings.intraOpThreads),
    MAX_CONCURRENT_REQUESTS: String(settings.workers),
    CACHE_ENABLED: String(settings.cacheEnabled),
    MAX_REQUESTS_PER_MINUTE: "0",
    SHUTDOWN_GRACE_SECONDS: "5",
    ...settings.env,
  };
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !SERVICE_VARIABLES.includes(key)) env[key] = value;
  Object.assign(env, envSet);

  const started = performance.now();
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, ["--import", "tsx", "src/server/main.ts"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  let stopRequested = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => {
      if (!stopRequested) console.error(`[bench] service "${name}" exited unexpectedly (code ${code}, signal ${signal})\n${stderr}`);
      resolve(code);
    }),
  );

  const port = await new Promise<number>((resolve, reject) => {
    let listeningPort: number | undefined;
    const timer = setTimeout(() => reject(new Error(`${name}: not serving after 180 s\n${stderr}`)), 180_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (entry.msg === "listening") listeningPort = Number(entry.port);
      if (entry.msg === "serving" && listeningPort !== undefined) {
        clearTimeout(timer);
        resolve(listeningPort);
      }
      if (entry.msg === "cannot start") reject(new Error(`${name}: cannot start: ${line}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited with code ${code} before serving\n${stderr}`));
    });
  });
  const startupMs = performance.now() - started;
  const baseUrl = `http://127.0.0.1:${port}`;
  const client = createClient(TtsService, createGrpcTransport({ baseUrl }));
  let stopping: Promise<void> | undefined;
  return {
    name,
    settings,
    envSet,
    pid: child.pid!,
    baseUrl,
    client,
    startupMs,
    stop() {
      stopping ??= (async () => {
        stopRequested = true;
        if (child.exitCode !== null) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
