// deploy/kubernetes/tts.yaml against the real service: every object decodes strictly into
// the Kubernetes API types (tools/manifest-check, k8s.io/api), the container's environment
// is a valid configuration, the native gRPC probes are answered SERVING by grpc.health.v1
// on the plaintext HEALTH_PORT they name, with TLS on as well as off, the Service reaches
// the serving port, the pod runs locked down (non-root, read-only root, no capabilities)
// with writable volumes where the service writes, and the termination grace covers the
// preStop pause plus the server's own drain. The cluster's Redis is a real redis-server.

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
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
import { REPO_ROOT } from "../server/entry-point.js";
import { startServer, type RunningServer } from "../server/running-server.js";

interface Probe {
  grpc?: { port: number | string; service?: string };
}
interface SecurityContext {
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { drop?: string[] };
}
interface Container {
  name: string;
  command?: string[];
  ports: { name: string; containerPort: number }[];
  securityContext?: SecurityContext;
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
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
const pod = deployment.spec.template.spec as {
  terminationGracePeriodSeconds: number;
  containers: Container[];
  initContainers: Container[];
  // biome-ignore lint/suspicious/noExplicitAny: read field by field in assertions
  securityContext: Record<string, any>;
  topologySpreadConstraints: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[];
  volumes: { name: string; emptyDir?: object; secret?: { secretName: string; optional?: boolean } }[];
};
const container = pod.containers.find((c) => c.name === "tts")!;
const env = Object.fromEntries(container.env.map(({ name, value }) => [name, value]));
// The image's own defaults (Dockerfile ENV) apply where the manifest sets nothing.
const servicePort = Number(env.SERVICE_PORT ?? 8002);
const healthPort = Number(env.HEALTH_PORT);
const portNumber = (port: number | string): number | undefined =>
  typeof port === "number" ? port : container.ports.find((p) => p.name === port)?.containerPort;

/** grpc.health.v1.Health/Check as kubelet's gRPC probe sends it, through @grpc/grpc-js. */
function probeCheck(port: number | undefined, service: string): Promise<string> {
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
  running = await startServer({
    ...env,
    SERVICE_PORT: "0",
    HEALTH_PORT: "0",
    REDIS_URL: redis.url,
    MODELS_DIR: "models",
    CACHE_DIR: join(work, "cache"),
  });
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

  it("decodes strictly into the Kubernetes API types (no unknown or misspelt field, no wrong type)", async () => {
    const { stdout } = await promisify(execFile)("go", ["run", ".", join(REPO_ROOT, "deploy/kubernetes/tts.yaml")], {
      cwd: join(REPO_ROOT, "tools/manifest-check"),
    });
    expect(stdout.trim().split("\n")).toHaveLength(manifests.length);
  }, 300_000);

  for (const kind of ["startupProbe", "readinessProbe", "livenessProbe"] as const) {
    it(`${kind} is a native gRPC probe on HEALTH_PORT that grpc.health.v1 answers SERVING`, async () => {
      const probe = container[kind]?.grpc;
      expect(probe, `${kind}.grpc`).toBeDefined();
      expect(portNumber(probe!.port)).toBe(healthPort);
      expect(container.ports.map((p) => p.containerPort)).toEqual(expect.arrayContaining([servicePort, healthPort]));
      // The probe goes to the container's port; here the same server listens on ephemeral ones.
      expect(await probeCheck(running.server.healthPort, probe!.service ?? "")).toBe("SERVING");
    });
  }

  it("keeps the probes answered in plaintext when TLS is on for the serving port (the README's TLS walkthrough)", async () => {
    const tlsMount = container.volumeMounts.find((m) => m.name === "tls")!;
    expect(pod.volumes.find((v) => v.name === "tls")?.secret).toEqual({ secretName: "aetheros-tts-tls", optional: true });
    const dir = mkdtempSync(join(tmpdir(), "tts-k8s-tls-"));
    try {
      // What `kubectl create secret tls` puts in the Secret: tls.crt and tls.key.
      await promisify(execFile)("openssl", [
        ..."req -x509 -newkey rsa:2048 -nodes -subj /CN=aetheros-tts -days 1".split(" "),
        "-keyout",
        join(dir, "tls.key"),
        "-out",
        join(dir, "tls.crt"),
      ]);
      const secure = await startServer({
        ...env,
        SERVICE_PORT: "0",
        HEALTH_PORT: "0",
        REDIS_URL: redis.url,
        MODELS_DIR: "models",
        TLS_CERT_FILE: join(dir, "tls.crt"),
        TLS_KEY_FILE: join(dir, "tls.key"),
      });
      try {
        expect(secure.config.tls?.certFile.endsWith("tls.crt")).toBe(true);
        expect(await probeCheck(secure.server.healthPort, "")).toBe("SERVING");
        // The serving port itself speaks TLS only: a plaintext probe there fails.
        await expect(probeCheck(secure.server.port, "")).rejects.toThrow();
      } finally {
        await secure.app.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(tlsMount.readOnly).toBe(true);
  });

  it("runs the pod locked down: non-root, seccomp RuntimeDefault, read-only root, no privilege escalation, no capabilities", () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    for (const each of [...pod.containers.filter((c) => c.name === "tts"), ...pod.initContainers]) {
      expect(each.securityContext, each.name).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
    }
  });

  it("gives the service writable volumes where it writes (cache, voices, /tmp), the voices seeded from the image", () => {
    const mounted = Object.fromEntries(container.volumeMounts.map((m) => [m.mountPath, m.name]));
    expect(mounted["/app/.cache"]).toBeDefined();
    expect(mounted["/app/models"]).toBeDefined();
    expect(mounted["/tmp"]).toBeDefined();
    for (const path of ["/app/.cache", "/app/models", "/tmp"]) {
      expect(pod.volumes.find((v) => v.name === mounted[path])?.emptyDir, path).toBeDefined();
    }
    const seed = pod.initContainers.find((c) => c.volumeMounts.some((m) => m.name === mounted["/app/models"]))!;
    expect(seed.command).toEqual(["cp", "-a", "/app/models/.", `${seed.volumeMounts[0]!.mountPath}/`]);
  });

  it("spreads replicas over nodes and zones, and a PodDisruptionBudget keeps all but one up", () => {
    expect(pod.topologySpreadConstraints.map((c) => c.topologyKey)).toEqual(["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
    for (const constraint of pod.topologySpreadConstraints)
      expect(constraint.labelSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    const pdb = find("PodDisruptionBudget", "aetheros-tts");
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: deployment.spec.selector.matchLabels } });
    expect(deployment.spec.replicas).toBeGreaterThan(1);
  });

  it("turns the probes NOT_SERVING once shutdown begins, so the pod leaves the Service", async () => {
    const draining = await startServer({
      ...env,
      SERVICE_PORT: "0",
      REDIS_URL: redis.url,
      MODELS_DIR: "models",
      CACHE_ENABLED: "false",
      SHUTDOWN_GRACE_SECONDS: "5",
      HEALTH_PORT: "0",
    });
    const port = draining.server.healthPort;
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
