// Silence between sentences (SynthesisConfig.sentence_silence).

/** Zero samples lasting `seconds`, counted as Piper does: int(sample_rate * seconds). */
export function createSilence(seconds: number, sampleRate: number): Int16Array {
  if (!(seconds >= 0) || !Number.isFinite(seconds)) throw new RangeError(`silence of ${seconds} s`);
  return new Int16Array(Math.trunc(sampleRate * seconds));
}
