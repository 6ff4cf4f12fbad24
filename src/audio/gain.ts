// Volume gain on 16-bit PCM, for audio that is already int16 (cached or resampled).

/** Samples times `gain` (0 to 4), rounded, saturating at -32768 and 32767 instead of wrapping. */
export function applyGain(samples: Int16Array, gain: number): Int16Array {
  if (!(gain >= 0 && gain <= 4)) throw new RangeError(`gain ${gain} is outside 0 to 4`);
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const value = Math.round(samples[i]! * gain);
    out[i] = value > 32767 ? 32767 : Math.max(value, -32768);
  }
  return out;
}
