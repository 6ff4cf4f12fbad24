/** Phonemes → model input ids, as Piper's phonemes_to_ids: ^ _ (id _)* $. */
import type { PiperVoiceConfig } from "./voice-config.js";

const BOS = "^";
const EOS = "$";
const PAD = "_";

export interface PhonemeIds {
  ids: number[];
  /** Phonemes absent from the voice's map, dropped as Piper drops them. */
  missing: string[];
  /**
   * Per phoneme, the index in `ids` of its first id (a dropped phoneme: of the next one's);
   * then the index of EOS. A phoneme's ids run to the next one's: its own, then a PAD.
   */
  phonemeStarts: number[];
}

export function phonemeIds(phonemes: readonly string[], voice: PiperVoiceConfig): PhonemeIds {
  const map = voice.phonemeIdMap;
  const pad = map.get(PAD)!;
  const ids = [...map.get(BOS)!, ...pad];
  const missing: string[] = [];
  const phonemeStarts: number[] = [];
  for (const phoneme of phonemes) {
    phonemeStarts.push(ids.length);
    const phonemeId = map.get(phoneme);
    if (!phonemeId) {
      missing.push(phoneme);
      continue;
    }
    ids.push(...phonemeId, ...pad);
  }
  phonemeStarts.push(ids.length);
  ids.push(...map.get(EOS)!);
  return { ids, missing, phonemeStarts };
}
