// ListVoices and Health against a server that starts with no voice loaded: the default
// voice's description, language filters, and `loaded`/`model_loaded` turning true only
// once the voice is loaded (by a synthesis, then by readiness).

import { stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioEncoding, HealthStatus } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { startServer, type RunningServer } from "../server/running-server.js";
import { ttsClient, VOICE, type TransportName } from "./support.js";

let running: RunningServer;
beforeAll(async () => {
  running = await startServer({}, { ready: false });
});
afterAll(() => running.app.close());

// The tests run in order: before any synthesis, after one, after readiness.
describe("before the voice is loaded", () => {
  it("ListVoices describes the default voice, not loaded", async () => {
    const response = await ttsClient(running).listVoices({});
    expect(response.defaultVoice).toBe(VOICE);
    const voice = response.voices.find((v) => v.id === VOICE);
    const { size } = await stat(join(running.config.modelsDir, `${VOICE}.onnx`));
    expect(voice).toMatchObject({
      id: VOICE,
      displayName: "Joe (English, United States)",
      languageCode: "en-US",
      piperLanguageCode: "en_US",
      languageName: "English",
      quality: "medium",
      sampleRate: 22050,
      numSpeakers: 1,
      speakers: [],
      sizeBytes: BigInt(size),
      dataset: "joe",
      loaded: false,
    });
    expect(size).toBeGreaterThan(1_000_000);
    // Sorted by id.
    const ids = response.voices.map((v) => v.id);
    expect(ids).toEqual([...ids].sort());
  });

  it("Health is NOT_SERVING without the default voice", async () => {
    const response = await ttsClient(running, "Connect").health({});
    expect(response).toMatchObject({ status: HealthStatus.NOT_SERVING, modelLoaded: false, loadedVoices: [], defaultVoice: VOICE });
  });
});

describe("after a synthesis", () => {
  it("ListVoices reports the voice loaded", async () => {
    const synthesized = await ttsClient(running).synthesize({
      text: "Load the voice.",
      config: { encoding: AudioEncoding.PCM, useCache: false },
    });
    expect(synthesized.durationSeconds).toBeGreaterThan(0.3);
    const response = await ttsClient(running).listVoices({});
    expect(response.voices.find((v) => v.id === VOICE)?.loaded).toBe(true);
  });

  it.each([
    ["en", true],
    ["en-US", true],
    ["en_US", true],
    ["EN-us", true],
    ["de", false],
    ["en-GB", false],
    ["e", false],
  ] as const)("the language filter %j %s the default voice", async (language, listed) => {
    for (const via of ["gRPC", "Connect"] as TransportName[]) {
      const response = await ttsClient(running, via).listVoices({ language });
      const ids = response.voices.map((v) => v.id);
      if (listed) expect(ids).toContain(VOICE);
      else expect(ids).toEqual([]);
    }
  });
});

describe("once ready", () => {
  it("Health is SERVING with the default voice loaded, a version and an uptime", async () => {
    await running.app.ready();
    for (const via of ["gRPC", "Connect"] as TransportName[]) {
      const response = await ttsClient(running, via).health({});
      expect(response).toMatchObject({ status: HealthStatus.SERVING, modelLoaded: true, defaultVoice: VOICE, version: "0.1.0" });
      expect(response.loadedVoices).toContain(VOICE);
      expect(response.uptimeSeconds).toBeGreaterThan(0);
    }
  });

  it("reports uptime that grows", async () => {
    const first = (await ttsClient(running).health({})).uptimeSeconds;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await ttsClient(running).health({})).uptimeSeconds).toBeGreaterThan(first);
  });
});
