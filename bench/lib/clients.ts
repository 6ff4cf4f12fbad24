/**
 * Clients other than connect-node's for cache hits over loopback (issue 12): @grpc/grpc-js
 * with its defaults, ghz and grpcurl (Go's grpc, from .tools/bin, installed by
 * `node tools/prerequisites.mjs test`). Each is used as a user would, without tuning.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { type SynthesizeRequestSchema, type SynthesizeResponse, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";

const execFileAsync = promisify(execFile);

export type SynthesizeInit = MessageInitShape<typeof SynthesizeRequestSchema>;

/** Unary Synthesize through a grpc-js client with default options (a 4 MiB receive limit, among others). */
export function grpcJsSynthesize(baseUrl: string): { call(request: SynthesizeInit): Promise<SynthesizeResponse>; close(): void } {
  const method = TtsService.method.synthesize;
  const client = new grpc.Client(new URL(baseUrl).host, grpc.credentials.createInsecure());
  return {
    call: (request) =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          `/${TtsService.typeName}/${method.name}`,
          (value: SynthesizeInit) => Buffer.from(toBinary(method.input, create(method.input, value))),
          (bytes: Buffer) => fromBinary(method.output, bytes),
          request,
          (error, value) => (error || !value ? reject(error ?? new Error("no response")) : resolve(value)),
        );
      }),
    close: () => client.close(),
  };
}

/** The gRPC status name of a grpc-js or connect error, for the report. */
export function statusName(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "number") return grpc.status[code] ?? String(code);
  return String(code ?? "unknown");
}

export function tool(root: string, name: string): string | undefined {
  const path = join(root, ".tools", "bin", name);
  return existsSync(path) ? path : undefined;
}

interface GhzReport {
  count: number;
  details?: Array<{ latency: number; error?: string; status?: string }>;
  statusCodeDistribution?: Record<string, number>;
  errorDistribution?: Record<string, number>;
}

/**
 * `ghz` with its defaults but for the call: server reflection, one connection, one caller,
 * `count` calls of the same request. Returns each call's latency (ghz's own, in ms).
 */
export async function ghzUnary(
  ghz: string,
  baseUrl: string,
  request: Record<string, unknown>,
  count: number,
): Promise<{ version: string; ms: number[]; errors: Record<string, number> }> {
  const printed = await execFileAsync(ghz, ["--version"]);
  let version = (printed.stdout || printed.stderr).trim();
  // `go install` builds say "dev"; the version is the one tools/prerequisites.mjs installs.
  if (version === "dev") {
    const pinned = /ghz@(v[\w.-]+)/.exec(
      await readFile(join(dirname(dirname(ghz)), "..", "tools", "prerequisites.mjs"), "utf8").catch(() => ""),
    );
    if (pinned) version = `${pinned[1]} (tools/prerequisites.mjs; the binary says "dev")`;
  }
  const { stdout } = await execFileAsync(
    ghz,
    [
      "--insecure",
      "--call",
      `${TtsService.typeName}.Synthesize`,
      "--data",
      JSON.stringify(request),
      "--total",
      String(count),
      "--concurrency",
      "1",
      "--connections",
      "1",
      "--format",
      "json",
      new URL(baseUrl).host,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const report = JSON.parse(stdout) as GhzReport;
  const details = report.details ?? [];
  return {
    version,
    // ghz reports nanoseconds.
    ms: details.filter((d) => !d.error).map((d) => d.latency / 1e6),
    errors: report.errorDistribution ?? {},
  };
}

/** One grpcurl process per call, timed from spawn to exit (what a shell user waits for). */
export async function grpcurlUnary(grpcurl: string, baseUrl: string, request: Record<string, unknown>): Promise<number> {
  const started = performance.now();
  await execFileAsync(grpcurl, ["-plaintext", "-d", JSON.stringify(request), new URL(baseUrl).host, `${TtsService.typeName}/Synthesize`], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return performance.now() - started;
}
