/**
 * The Piper reference (piper-tts 1.8.0, its Python API) in a private virtualenv under
 * bench/.venv (git-ignored), driven as one long-lived child process (piper_server.py), and
 * Piper's own HTTP server (`python -m piper.http_server`, Flask) from the same package.
 */
import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";

export const PIPER_VERSION = "1.8.0";

function run(command: string, args: string[], what: string): string {
  const result = spawnSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (result.status !== 0) throw new Error(`${what} failed (${command} ${args.join(" ")}): exit ${result.status ?? result.signal}`);
  return result.stdout;
}

/** The README's note: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE slow a current numpy; unset both for the children only. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/**
 * Creates bench/.venv with piper-tts[http]==1.8.0 unless it is already there; returns its
 * python. The "http" extra brings Flask for piper.http_server; the "alignment" extra (the onnx
 * package) is left out on purpose, so http_server runs the voice file as it is, like the API.
 */
export function ensurePiperVenv(venv: string, log: (message: string) => void): string {
  const python = join(venv, "bin", "python");
  if (!existsSync(python)) {
    log(`creating the Piper reference virtualenv ${venv}`);
    run(process.env.PYTHON ?? "python3", ["-m", "venv", venv], "python3 -m venv");
  }
  const installed = spawnSync(python, ["-c", "import importlib.metadata as m; print(m.version('piper-tts'), m.version('flask'))"], {
    encoding: "utf8",
  });
  if (installed.status !== 0 || installed.stdout.split(" ")[0] !== PIPER_VERSION) {
    log(`installing piper-tts[http]==${PIPER_VERSION} into ${venv} (pip, PyPI)`);
    run(
      python,
      ["-m", "pip", "install", "--disable-pip-version-check", "--quiet", `piper-tts[http]==${PIPER_VERSION}`],
      "pip install piper-tts[http]",
    );
  }
  return python;
}

/** A virtualenv with onnxruntime==version and numpy only (for the floor at Node's onnxruntime version). */
export function ensureOrtVenv(venv: string, version: string, log: (message: string) => void): string {
  const python = join(venv, "bin", "python");
  if (!existsSync(python)) {
    log(`creating ${venv} for Python onnxruntime ${version}`);
    run(process.env.PYTHON ?? "python3", ["-m", "venv", venv], "python3 -m venv");
  }
  const installed = spawnSync(python, ["-c", "import importlib.metadata as m; print(m.version('onnxruntime'))"], { encoding: "utf8" });
  if (installed.status !== 0 || installed.stdout.trim() !== version) {
    log(`installing onnxruntime==${version} and numpy into ${venv} (pip, PyPI)`);
    run(
      python,
      ["-m", "pip", "install", "--disable-pip-version-check", "--quiet", `onnxruntime==${version}`, "numpy"],
      "pip install onnxruntime",
    );
  }
  return python;
}

export interface PiperInfo {
  piper_tts: string;
  onnxruntime: string;
  numpy: string;
  python: string;
  intra_op_num_threads: number;
  inter_op_num_threads: number;
  execution_mode: string;
  graph_optimization_level: string;
  sample_rate: number;
  cpu_count: number;
}

/** A long-lived child answering one JSON line per request line (piper_server.py, ort_floor.py, sherpa-child.ts). */
export class JsonLineProcess<Info> {
  private readonly pending: Array<(line: string) => void> = [];
  private stderr = "";

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, Readable>,
    readonly info: Info,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  /** A Python script. */
  static start<Info>(python: string, script: string, args: string[]): Promise<JsonLineProcess<Info>> {
    return JsonLineProcess.spawn<Info>(python, [script, ...args]);
  }

  static async spawn<Info>(command: string, args: string[]): Promise<JsonLineProcess<Info>> {
    const child = spawn(command, args, { env: childEnv(), stdio: ["pipe", "pipe", "pipe"] });
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((resolve, reject) => {
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      lines.once("line", resolve);
      child.once("exit", (code) => reject(new Error(`${[command, ...args].join(" ")} exited with code ${code}\n${stderr}`)));
    });
    const started = new JsonLineProcess<Info>(child, JSON.parse(first) as Info);
    child.stderr.on("data", (chunk: Buffer) => (started.stderr = (started.stderr + chunk.toString()).slice(-4000)));
    lines.on("line", (line) => started.pending.shift()?.(line));
    return started;
  }

  async request<T>(message: Record<string, unknown>): Promise<T> {
    const answer = new Promise<string>((resolve) => this.pending.push(resolve));
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
    const parsed = JSON.parse(await answer) as T & { error?: string };
    if (parsed.error) throw new Error(`${parsed.error}\n${this.stderr}`);
    return parsed;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin.end();
    await exited;
  }
}

/** The Piper reference: piper_server.py's requests. */
export class PiperReference {
  private constructor(private readonly process: JsonLineProcess<PiperInfo>) {}

  static async start(python: string, script: string, model: string): Promise<PiperReference> {
    return new PiperReference(await JsonLineProcess.start<PiperInfo>(python, script, [model]));
  }

  get info(): PiperInfo {
    return this.process.info;
  }

  get pid(): number {
    return this.process.pid;
  }

  request<T>(message: Record<string, unknown>): Promise<T> {
    return this.process.request<T>(message);
  }

  /** synthesize_wav(text) with the default SynthesisConfig, timed in Python. */
  synth(text: string): Promise<{ ms: number; samples: number; sentences: number }> {
    return this.request({ op: "synth", text });
  }

  /** Time until synthesize(text) yields its first sentence's audio. */
  first(text: string): Promise<{ ms: number; samples: number }> {
    return this.request({ op: "first", text });
  }

  phonemize(text: string): Promise<{ ms: number }> {
    return this.request({ op: "phonemize", text });
  }

  stop(): Promise<void> {
    return this.process.stop();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Piper's own HTTP server, `python -m piper.http_server -m MODEL`, as shipped (Flask's
 * server, the voice's default settings), on a free loopback port. Timed from the client:
 * POST /synthesize {"text"} until the whole WAV body has arrived.
 */
export class PiperHttpServer {
  private stderr = "";

  private constructor(
    private readonly child: ChildProcessByStdio<null, Readable, Readable>,
    readonly url: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  static async start(python: string, model: string): Promise<PiperHttpServer> {
    const port = await freePort();
    const child = spawn(python, ["-m", "piper.http_server", "-m", model, "--host", "127.0.0.1", "--port", String(port)], {
      cwd: dirname(model),
      env: childEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const server = new PiperHttpServer(child, `http://127.0.0.1:${port}`);
    const keep = (chunk: Buffer) => (server.stderr = (server.stderr + chunk.toString()).slice(-4000));
    child.stderr.on("data", keep);
    child.stdout.on("data", keep);
    const deadline = performance.now() + 120_000;
    while (performance.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`piper.http_server exited with code ${child.exitCode}\n${server.stderr}`);
      try {
        if ((await fetch(`${server.url}/info`)).ok) return server;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    await server.stop();
    throw new Error(`piper.http_server not answering after 120 s\n${server.stderr}`);
  }

  async synth(text: string): Promise<{ ms: number; samples: number }> {
    const started = performance.now();
    const response = await fetch(`${this.url}/synthesize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
    });
    const body = new Uint8Array(await response.arrayBuffer());
    const ms = performance.now() - started;
    if (!response.ok) throw new Error(`piper.http_server answered ${response.status}: ${new TextDecoder().decode(body).slice(0, 300)}`);
    return { ms, samples: (body.length - 44) / 2 };
  }

  /** Idempotent: a second call (the harness's cleanup after an early stop) resolves at once. */
  async stop(): Promise<void> {
    // A child ended by a signal has exitCode null and signalCode set; either means it is gone.
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
  }
}
