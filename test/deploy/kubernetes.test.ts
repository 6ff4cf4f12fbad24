// deploy/kubernetes/tts.yaml against the real service: the container's environment is a
// valid configuration, the native gRPC probes are answered SERVING by grpc.health.v1 on the
// port they name, the Service reaches that port, and the termination grace covers the
// preStop pause plus the server's own drain. The cluster's Redis is a real redis-server.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus,
  type HealthCheckRequest,
} from "../../gen/grpc/health/v1/health_pb.js";
import { RedisServer } from "../cache/redis-server.js";
import { startServer, type RunningServer } from "../server/running-server.js";

interface Probe {
  grpc?: { port: number | string; service?: string };
}
interface Container {
  name: string;
  ports: { name: string; containerPort: number }[];
  env: { name: string; value: string }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  // biome-ignore lint/suspicious/noExplicitAny: a manifest's spec, read field by field in assertions
  spec: Record<string, any>;
}

const manifests = parseAllDocuments(readFileSync("deploy/kubernetes/tts.yaml", "utf8")).map((doc) => doc.toJS() as Manifest);
const find = (kind: string, name: string) => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (found === undefined) throw new Error(`deploy/kubernetes/tts.yaml has no ${kind} ${name}`);
  return found;
};
const deployment = find("Deployment", "aetheros-tts");
const pod = deployment.spec.template.spec as { terminationGracePeriodSeconds: number; containers: Container[] };
const container = pod.containers.find((c) => c.name === "tts")!;
const env = Object.fromEntries(container.env.map(({ name, value }) => [name, value]));
// The image's own defaults (Dockerfile ENV) apply where the manifest sets nothing.
const servicePort = Number(env.SERVICE_PORT ?? 8002);

/** grpc.health.v1.Health/Check as kubelet's gRPC probe sends it, through @grpc/grpc-js. */
function probeCheck(port: number, service: string): Promise<string> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      (request: HealthCheckRequest) => Buffer.from(toBinary(HealthCheckRequestSchema, request)),
      (bytes: Buffer) => fromBinary(HealthCheckResponseSchema, bytes),
      create(HealthCheckRequestSchema, { service }),
      { deadline: Date.now() + 10_000 },
      (error, response) => {
        client.close();
        if (error) reject(error);
        else resolve(HealthCheckResponse_ServingStatus[response!.status]);
      },
    );
  });
}

let redis: RedisServer;
let running: RunningServer;
let work: string;
beforeAll(async () => {
  redis = await RedisServer.start();
  work = mkdtempSync(join(tmpdir(), "tts-k8s-"));
  // The manifest's settings as they are; only addresses and paths become this machine's.
  running = await startServer({ ...env, SERVICE_PORT: "0", REDIS_URL: redis.url, MODELS_DIR: "models", CACHE_DIR: join(work, "cache") });
});
afterAll(async () => {
  await running?.app.close();
  await redis?.kill();
  rmSync(work, { recursive: true, force: true });
});

describe("deploy/kubernetes/tts.yaml", () => {
  it("sets a configuration the service accepts, with the shared cache on Redis", () => {
    expect(running.config.redisUrl).toBe(redis.url);
    expect(running.config.maxConcurrentRequests).toBe(Number(env.MAX_CONCURRENT_REQUESTS));
  });

  for (const kind of ["startupProbe", "readinessProbe", "livenessProbe"] as const) {
    it(`${kind} is a native gRPC probe on the serving port that grpc.health.v1 answers SERVING`, async () => {
      const probe = container[kind]?.grpc;
      expect(probe, `${kind}.grpc`).toBeDefined();
      const port = typeof probe!.port === "number" ? probe!.port : container.ports.find((p) => p.name === probe!.port)?.containerPort;
      expect(port).toBe(servicePort);
      expect(container.ports.map((p) => p.containerPort)).toContain(servicePort);
      // The probe goes to the container's port; here the same server listens on an ephemeral one.
      expect(await probeCheck(running.server.port, probe!.service ?? "")).toBe("SERVING");
    });
  }

  it("turns the probes NOT_SERVING once shutdown begins, so the pod leaves the Service", async () => {
    const draining = await startServer({
      ...env,
      SERVICE_PORT: "0",
      REDIS_URL: redis.url,
      MODELS_DIR: "models",
      CACHE_ENABLED: "false",
      SHUTDOWN_GRACE_SECONDS: "5",
    });
    const port = draining.server.port;
    expect(await probeCheck(port, container.readinessProbe?.grpc?.service ?? "")).toBe("SERVING");
    draining.health.markShuttingDown();
    expect(await probeCheck(port, container.readinessProbe?.grpc?.service ?? "")).toBe("NOT_SERVING");
    await draining.app.close();
  });

  it("has the Service reach the container's gRPC port over h2c", () => {
    const service = find("Service", "aetheros-tts");
    const port = service.spec.ports[0] as { port: number; targetPort: string | number; appProtocol?: string };
    const target =
      typeof port.targetPort === "number" ? port.targetPort : container.ports.find((p) => p.name === port.targetPort)?.containerPort;
    expect(target).toBe(servicePort);
    expect(port.appProtocol).toBe("kubernetes.io/h2c");
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
  });

  it("gives the pod time for the preStop pause and the whole drain before SIGKILL", () => {
    const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + Number(env.SHUTDOWN_GRACE_SECONDS));
  });

  it("scales the Deployment on CPU", () => {
    const hpa = find("HorizontalPodAutoscaler", "aetheros-tts");
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name: "aetheros-tts" });
    expect(hpa.spec.metrics.map((m: { resource?: { name: string } }) => m.resource?.name)).toContain("cpu");
  });
});
