/** Phonemes → model input ids, as Piper's phonemes_to_ids: ^ _ (id _)* $. */
import type { PiperVoiceConfig } from "./voice-config.js";

const BOS = "^";
const EOS = "$";
const PAD = "_";

export interface PhonemeIds {
  ids: number[];
  /** Phonemes absent from the voice's map, dropped as Piper drops them. */
  missing: string[];
}

export function phonemeIds(phonemes: readonly string[], voice: PiperVoiceConfig): PhonemeIds {
  const map = voice.phonemeIdMap;
  const pad = map.get(PAD)!;
  const ids = [...map.get(BOS)!, ...pad];
  const missing: string[] = [];
  for (const phoneme of phonemes) {
    const phonemeId = map.get(phoneme);
    if (!phonemeId) {
      missing.push(phoneme);
      continue;
    }
    ids.push(...phonemeId, ...pad);
  }
  ids.push(...map.get(EOS)!);
  return { ids, missing };
}
