/** Language tags: Piper writes "en_US", BCP-47 writes "en-US"; requests may use either, or "en". */
import type { VoiceLanguage } from "../engine/index.js";

export function bcp47(piperCode: string): string {
  return piperCode.replace("_", "-");
}

/** True when `query` ("en", "en-US", "en_us") names the voice's language or its family. */
export function matchesLanguage(language: VoiceLanguage, query: string): boolean {
  const wanted = query.trim().replace("_", "-").toLowerCase();
  if (!wanted) return true;
  const code = bcp47(language.code).toLowerCase();
  return code === wanted || language.family.toLowerCase() === wanted || code.startsWith(`${wanted}-`);
}
