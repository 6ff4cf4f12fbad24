// The cache sits in front of the engine: a hit needs neither a loaded voice nor espeak-ng,
// and a voice file broken on disk while the service runs leaves the loaded sessions
// serving, cached and uncached, while Health names the problem. Real server, real voice,
// real clients; MODELS_DIR is a temporary copy so the test can break its files.

import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, HealthStatus } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { DEFAULT_CONFIG, DEFAULT_MODEL, DEFAULT_VOICE } from "../support/voice.js";
import { type CachedServer, grpcTransport, startCachedServer, tempDir } from "./support.js";

const SECOND_VOICE = "en_US-second-medium";

let cache: Awaited<ReturnType<typeof tempDir>>;
let models: Awaited<ReturnType<typeof tempDir>>;
let running: CachedServer | undefined;

async function start(): Promise<CachedServer> {
  running = await startCachedServer(cache.dir, { MODELS_DIR: models.dir, MAX_LOADED_VOICES: "1" });
  return running;
}

beforeAll(async () => {
  cache = await tempDir();
  models = await tempDir("aetheros-models-");
  for (const id of [DEFAULT_VOICE, SECOND_VOICE]) {
    await copyFile(DEFAULT_MODEL, join(models.dir, `${id}.onnx`));
    await copyFile(DEFAULT_CONFIG, join(models.dir, `${id}.onnx.json`));
  }
});

afterAll(async () => {
  await running?.app.close();
  await cache.remove();
  await models.remove();
});

describe("a cache hit runs no engine", () => {
  it("answers a hit on a voice that is not loaded without loading it", async () => {
    // Fill the disk tier with the second voice's audio, then start afresh: only the default voice loads.
    let server = await start();
    const config = { voice: SECOND_VOICE, encoding: AudioEncoding.WAV };
    const text = "A phrase spoken by the second voice.";
    const first = await server.grpc.synthesize({ text, config });
    expect(first.cached).toBe(false);
    await server.app.close();

    server = await start();
    const before = await server.grpc.health({});
    expect(before.loadedVoices).toEqual([DEFAULT_VOICE]);
    const hit = await server.grpc.synthesize({ text, config });
    expect(hit.cached).toBe(true);
    expect(hit.audio).toEqual(first.audio);
    expect((await server.grpc.health({})).loadedVoices).toEqual([DEFAULT_VOICE]);
    expect((await server.grpc.listVoices({})).voices.find((v) => v.id === SECOND_VOICE)?.loaded).toBe(false);

    // A miss on it does load it; MAX_LOADED_VOICES=1 then unloads the default voice.
    const miss = await server.grpc.synthesize({ text: "Now something new.", config });
    expect(miss.cached).toBe(false);
    expect((await server.grpc.health({})).loadedVoices).toEqual([SECOND_VOICE]);
    await server.app.close();
    running = undefined;
  });
});

describe("a default voice file broken while serving", () => {
  it("keeps cached and uncached calls on the old sessions and reports the voice degraded", async () => {
    const server = await start();
    const health = createClient(Health, grpcTransport(server));
    const text = "This phrase was spoken before the file broke.";
    const config = { encoding: AudioEncoding.MP3 };
    const before = await server.grpc.synthesize({ text, config });
    expect(before.cached).toBe(false);

    // Truncate the running default voice's model, as a failed copy would.
    const file = join(models.dir, `${DEFAULT_VOICE}.onnx`);
    await writeFile(file, (await readFile(file)).subarray(0, 3_000_000));

    const cached = await server.grpc.synthesize({ text, config });
    expect(cached.cached).toBe(true);
    expect(cached.audio).toEqual(before.audio);
    // The new file is tried in the background; Health names the problem once it failed.
    await expect
      .poll(async () => (await server.grpc.health({})).degradedVoices, { timeout: 60_000 })
      .toEqual([expect.objectContaining({ voice: DEFAULT_VOICE, serving: true })]);
    const report = await server.grpc.health({});
    expect(report.status).toBe(HealthStatus.SERVING);
    expect(report.degradedVoices[0]!.problem).toMatch(/onnxruntime cannot load the model/);
    expect(report.loadedVoices).toEqual([DEFAULT_VOICE]);
    expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);

    const uncached = await server.grpc.synthesize({ text: "And a phrase never spoken before.", config: { ...config, useCache: false } });
    expect(uncached.cached).toBe(false);
    expect(uncached.durationSeconds).toBeGreaterThan(1);
    const again = await server.grpc.synthesize({ text, config });
    expect(again.cached).toBe(true);
    // Logged once for this file version, however many calls came after.
    const failures = server.logLines.filter((line) => String(line.msg).startsWith("voice files changed on disk and do not load"));
    expect(failures).toHaveLength(1);

    // The good file back: the problem is gone.
    await copyFile(DEFAULT_MODEL, file);
    await server.grpc.synthesize({ text, config });
    await expect.poll(async () => (await server.grpc.health({})).degradedVoices, { timeout: 60_000 }).toEqual([]);
  });
});
