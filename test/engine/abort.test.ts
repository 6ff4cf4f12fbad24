/**
 * A synthesis whose signal aborts ends in AbortedError, wherever the abort lands: before
 * the first sentence, during a sentence's encoder run (which cannot be interrupted), or
 * between its decoder windows. It never ends as if it were done with part of its audio:
 * callers would cache, or speak, a cut sentence as the whole one.
 */
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { AbortedError } from "../../src/errors/index.js";
import { Engine } from "../../src/engine/index.js";
import { VoiceCatalog } from "../../src/voices/index.js";
import { DEFAULT_VOICE, MODELS_DIR } from "../support/voice.js";

const logger = pino({ level: "silent" });
const engine = new Engine({ threads: 2, intraOpThreads: 1, maxLoadedVoices: 1, logger });
afterAll(() => engine.close());

const model = engine.model(await new VoiceCatalog(MODELS_DIR, logger).voice(DEFAULT_VOICE));
const settings = { scales: { noiseScale: 0, lengthScale: model.config.lengthScale, noiseW: 0, durationScale: 1 }, speakerId: 0 };
/** One long sentence: its encoder run alone takes tens of milliseconds, its decoding several windows. */
const SENTENCE =
  "The committee, having reviewed every proposal submitted over the last three months, decided that the new library would open on the first Monday of spring, with extended hours on weekends and a reading room for students.";

/** Iterates the synthesis, aborting after `abortAfterMs`; what the iteration ended with. */
async function synthesizeAborted(abortAfterMs: number) {
  await engine.load(await new VoiceCatalog(MODELS_DIR, logger).voice(DEFAULT_VOICE));
  const plan = await engine.plan(model, SENTENCE);
  expect(plan.sentences).toHaveLength(1);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new AbortedError("cancelled")), abortAfterMs);
  let windows = 0;
  try {
    for await (const _ of engine.synthesize(model, plan, settings, abort.signal)) windows++;
    return { windows, error: undefined };
  } catch (error) {
    return { windows, error };
  } finally {
    clearTimeout(timer);
  }
}

describe("an aborted synthesis", () => {
  // 0 ms: as it starts; 15 ms: during the encoder run; 150 ms: in the decoding.
  for (const abortAfterMs of [0, 15, 150]) {
    it(`ends in AbortedError, not as a finished sentence, when the abort comes ${abortAfterMs} ms in`, async () => {
      const { error } = await synthesizeAborted(abortAfterMs);
      expect(error).toBeInstanceOf(AbortedError);
    });
  }

  it("without an abort, the same sentence is spoken to its last window", async () => {
    const { windows, error } = await synthesizeAborted(60_000);
    expect(error).toBeUndefined();
    expect(windows).toBeGreaterThan(0);
  });
});
