import { ensureDefaultVoice } from "./support/voice.js";

/** Runs once before every test file: the suite needs the real default voice. */
export default async function setup(): Promise<void> {
  await ensureDefaultVoice();
}
