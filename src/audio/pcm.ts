// Float model output to 16-bit PCM exactly as Piper does it (piper-tts 1.8,
// piper/voice.py): PiperVoice.synthesize normalizes each sentence's audio to peak 1
// when normalize_audio is set (its default), applies the volume, clips to [-1, 1], and
// AudioChunk.audio_int16_array scales by 32767, clips to ±32767 and casts. NumPy does
// all of it in float32 (Python scalars take the array's type), so every step here is
// rounded to float32 with Math.fround, and the cast truncates toward zero like C.

const MAX_WAV_VALUE = 32767; // Piper's _MAX_WAV_VALUE
const SILENCE_PEAK = Math.fround(1e-8); // Piper's "prevent division by zero" threshold

/**
 * Model output as Piper's int16 samples: one whole sentence when `peakNormalized` (Piper's
 * normalize_audio), else any run of samples (the model's own level needs no look ahead).
 * `volume` is Piper's SynthesisConfig.volume, applied after normalization and before
 * clipping. NaN, which NumPy's int16 cast leaves undefined, becomes 0.
 */
export function floatToPcm16(samples: Float32Array, volume = 1, peakNormalized = true): Int16Array {
  let peak = 1;
  if (peakNormalized) {
    peak = 0;
    for (const sample of samples) {
      const magnitude = Math.abs(sample);
      if (magnitude > peak) peak = magnitude;
    }
  }
  const out = new Int16Array(samples.length);
  if (!(peak >= SILENCE_PEAK)) return out; // Piper zeroes audio whose peak is below 1e-8
  const gain = Math.fround(volume);
  for (let i = 0; i < samples.length; i++) {
    let value = peakNormalized ? Math.fround(samples[i]! / peak) : samples[i]!;
    if (volume !== 1) value = Math.fround(value * gain);
    value = Math.min(1, Math.max(-1, value));
    const scaled = Math.min(MAX_WAV_VALUE, Math.max(-MAX_WAV_VALUE, Math.fround(value * MAX_WAV_VALUE)));
    out[i] = Number.isNaN(scaled) ? 0 : Math.trunc(scaled);
  }
  return out;
}
