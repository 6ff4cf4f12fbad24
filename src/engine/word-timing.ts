/**
 * Where each word of a sentence is in its audio, from the model's own durations: exact to a
 * decoder frame, since the decoder turns each id's frames into that many hops of samples.
 */
import type { PlannedWord } from "./plan.js";

/** A word's text span (code points, as in PlannedWord) and its samples [start, end). */
export interface WordInterval {
  textStart: number;
  textEnd: number;
  /** From the start of the sentence's audio, at the voice's sample rate. */
  startSample: number;
  endSample: number;
}

/**
 * The samples of each word: from the first id of its first phoneme through the PAD after its
 * last phoneme (PlannedWord.idStart/idEnd). `idDurations` is the sentence's samples per id
 * (SpeechWindow.idDurations), one per id of the sentence. Intervals follow the words' order,
 * never overlap, and leave gaps where spaces, pauses and punctuation are spoken.
 */
export function wordIntervals(words: readonly PlannedWord[], idDurations: readonly number[]): WordInterval[] {
  const ends: number[] = [0];
  for (const samples of idDurations) ends.push(ends[ends.length - 1]! + samples);
  return words.map(({ textStart, textEnd, idStart, idEnd }) => {
    if (idStart < 0 || idEnd < idStart || idEnd > idDurations.length)
      throw new RangeError(`word ids [${idStart}, ${idEnd}) are not within the ${idDurations.length} ids that have durations`);
    return { textStart, textEnd, startSample: Math.round(ends[idStart]!), endSample: Math.round(ends[idEnd]!) };
  });
}
