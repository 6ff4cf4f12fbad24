// The real entry point, run as a process: refusing a bad configuration, and
// shutting down gracefully on SIGTERM.

import { spawn, type ChildProcessByStdio } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import * as reflection from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { callError, RequestStream } from "./running-server.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PROCESS_TIMEOUT_MS = 30_000;

type LogLine = Record<string, unknown>;

interface EntryPoint {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly logLines: LogLine[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** The first log line with this msg, once it is written. */
  logged(msg: string): Promise<LogLine>;
}

const started: EntryPoint[] = [];
afterEach(() => started.splice(0).forEach((entry) => entry.child.kill("SIGKILL")));

/** Runs `node --import tsx src/server/main.ts` with exactly the given environment. */
function startEntryPoint(env: Record<string, string>): EntryPoint {
  const child = spawn(process.execPath, ["--import", "tsx", "src/server/main.ts"], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logLines: LogLine[] = [];
  const waiting = new Set<() => void>();
  createInterface({ input: child.stdout }).on("line", (line) => {
    logLines.push(JSON.parse(line) as LogLine);
    waiting.forEach((check) => check());
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited: EntryPoint["exited"] = new Promise((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, stderr })),
  );
  const logged = (msg: string): Promise<LogLine> =>
    new Promise((resolve) => {
      const check = (): void => {
        const line = logLines.find((candidate) => candidate.msg === msg);
        if (line === undefined) return;
        waiting.delete(check);
        resolve(line);
      };
      waiting.add(check);
      check();
    });
  const entry = { child, logLines, exited, logged };
  started.push(entry);
  return entry;
}

async function listening(entry: EntryPoint): Promise<string> {
  const line = await entry.logged("listening");
  return `http://127.0.0.1:${String(line.port)}`;
}

/** A reflection stream held open: the call stays in flight until end(). */
function openReflectionStream(baseUrl: string) {
  const client = createClient(reflection.ServerReflection, createGrpcTransport({ baseUrl }));
  const requests = new RequestStream<{ messageRequest: reflection.ServerReflectionRequest["messageRequest"] }>();
  const answers = client.serverReflectionInfo(requests)[Symbol.asyncIterator]();
  return {
    async listServices(): Promise<string[]> {
      requests.push({ messageRequest: { case: "listServices", value: "" } });
      const answer = await answers.next();
      if (answer.done === true) return [];
      const response = answer.value.messageResponse;
      return response.case === "listServicesResponse" ? response.value.service.map((service) => service.name) : [];
    },
    end: () => requests.end(),
    next: () => answers.next(),
  };
}

const SERVER_ENV = { SERVICE_HOST: "127.0.0.1", SERVICE_PORT: "0" };

describe("entry point", () => {
  it(
    "exits 1 on a bad value, naming the variable, the value and the allowed range",
    async () => {
      const entry = startEntryPoint({ ...SERVER_ENV, SERVICE_PORT: "abc" });
      const { code, stderr } = await entry.exited;
      expect(code).toBe(1);
      expect(stderr).toContain('SERVICE_PORT="abc" is invalid: expected an integer from 0 to 65535');
      expect(entry.logLines.some((line) => line.msg === "listening")).toBe(false);
    },
    PROCESS_TIMEOUT_MS,
  );

  it(
    "on SIGTERM refuses new calls, lets the call in flight finish, then exits 0",
    async () => {
      const entry = startEntryPoint({ ...SERVER_ENV, SHUTDOWN_GRACE_SECONDS: "20" });
      const baseUrl = await listening(entry);
      const inFlight = openReflectionStream(baseUrl);
      expect(await inFlight.listServices()).toContain("aetheros.tts.v1.TtsService");

      entry.child.kill("SIGTERM");
      await entry.logged("shutting down");
      const refused = await callError(
        createClient(Health, createGrpcTransport({ baseUrl })).check({ service: "" }),
      );
      expect(refused.code).toBe(Code.Unavailable);

      // The call begun before SIGTERM is still served.
      expect(await inFlight.listServices()).toContain("aetheros.tts.v1.TtsService");
      inFlight.end();
      expect((await inFlight.next()).done).toBe(true);

      const { code, signal } = await entry.exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      const reflectionCall = entry.logLines.find((line) => line.method === "grpc.reflection.v1.ServerReflection/ServerReflectionInfo");
      expect(reflectionCall?.code).toBe("ok");
      expect(entry.logLines.some((line) => line.msg === "grace period over, cutting off calls")).toBe(false);
      expect(entry.logLines.at(-1)?.msg).toBe("stopped");
    },
    PROCESS_TIMEOUT_MS,
  );

  it(
    "cuts off a call still running when SHUTDOWN_GRACE_SECONDS is over, then exits 0",
    async () => {
      const entry = startEntryPoint({ ...SERVER_ENV, SHUTDOWN_GRACE_SECONDS: "1" });
      const inFlight = openReflectionStream(await listening(entry));
      await inFlight.listServices();
      // Shutdown waits for the voice's warm-up inferences (a worker cannot be stopped
      // inside onnxruntime), which takes seconds on a busy machine: let it finish first.
      await entry.logged("serving");

      const signalled = performance.now();
      entry.child.kill("SIGTERM");
      const cutOff = callError(inFlight.next());
      const { code, signal } = await entry.exited;
      const shutdownMs = performance.now() - signalled;

      expect({ code, signal }).toEqual({ code: 0, signal: null });
      // The grace period, then at most the second cut-off calls get to answer.
      expect(shutdownMs).toBeGreaterThanOrEqual(1000);
      expect(shutdownMs).toBeLessThan(3000);
      expect(entry.logLines.some((line) => line.msg === "grace period over, cutting off calls")).toBe(true);
      expect(await cutOff).toMatchObject({ code: Code.Unavailable, rawMessage: "server shut down" });
    },
    PROCESS_TIMEOUT_MS,
  );
});
