/** The default voice for tests, fetched by the project's own code when missing. */
import { resolve } from "node:path";
import { ensureVoice } from "../../src/voices/fetch.js";

export const MODELS_DIR = resolve("models");
export const DEFAULT_VOICE = "en_US-joe-medium";
export const DEFAULT_MODEL = resolve(MODELS_DIR, `${DEFAULT_VOICE}.onnx`);
export const DEFAULT_CONFIG = `${DEFAULT_MODEL}.json`;

export async function ensureDefaultVoice(): Promise<void> {
  await ensureVoice(MODELS_DIR, DEFAULT_VOICE, { log: (message) => console.log(message) });
}
