/**
 * Text → sentence plan: phonemes and model ids per sentence, exactly as Piper would feed the
 * voice. Pure and synchronous (espeak-ng is called in process): the engine runs it inside
 * an inference worker, after admission, never on the event loop.
 *
 * A sentence is never cut: one sentence is one encoder run whatever its length, as in
 * Piper, so its audio (durations, prosody, length) is Piper's. Latency and memory are the
 * decoder's business, which runs on windows of frames (inference.ts).
 */
import { NothingToSpeakError } from "./errors.js";
import { phonemeIds } from "./phoneme-ids.js";
import { phonemize } from "./phonemize.js";
import type { PiperVoiceConfig } from "./voice-config.js";

/** One sentence the voice speaks: one inference. */
export interface PlannedSentence {
  /** Index among the text's sentences (those that give no ids are not planned). */
  sentenceIndex: number;
  phonemes: string[];
  ids: number[];
}

export interface Plan {
  sentences: PlannedSentence[];
  sentenceCount: number;
  /** Phonemes the voice's id map lacks; dropped, as Piper drops them. */
  missingPhonemes: string[];
}

export function planSpeech(text: string, voice: PiperVoiceConfig): Plan {
  const planned: PlannedSentence[] = [];
  const missing = new Set<string>();
  const sentences = phonemize(text, voice).filter((sentence) => sentence.length > 0);
  sentences.forEach((phonemes, sentenceIndex) => {
    const result = phonemeIds(phonemes, voice);
    for (const p of result.missing) missing.add(p);
    // BOS, PAD and EOS alone carry no speech.
    if (result.ids.length > 3) planned.push({ sentenceIndex, phonemes, ids: result.ids });
  });
  if (planned.length === 0) throw new NothingToSpeakError(text);
  return { sentences: planned, sentenceCount: sentences.length, missingPhonemes: [...missing] };
}
