// Pitch shift that keeps duration: Sonic (github.com/waywardgeek/sonic, Apache-2.0), the
// speech speed and pitch library behind Android's text-to-speech rate control, in its
// WebAssembly build @echogarden/sonic-wasm. Sonic re-times the audio pitch-synchronously
// (overlap-adding whole pitch periods) and then resamples it with a windowed-sinc
// interpolator, so formants move with the pitch. Rubber Band would keep the formants but
// is GPL; SoundTouchJS resamples by linear interpolation, which aliases.
import createSonicModule, { type SonicModule } from "@echogarden/sonic-wasm";

let sonicModule: Promise<SonicModule> | undefined;

/**
 * `samples` with every frequency multiplied by `factor` (0.5 to 2) and the same length.
 * Stateless: call it once per sentence.
 */
export async function shiftPitch(samples: Int16Array, sampleRate: number, factor: number): Promise<Int16Array> {
  if (!(factor >= 0.5 && factor <= 2)) throw new RangeError(`pitch factor ${factor} is outside 0.5 to 2`);
  if (factor === 1 || samples.length === 0) return samples.slice();
  const sonic = await (sonicModule ??= createSonicModule());
  const stream = sonic._sonicCreateStream(sampleRate, 1);
  if (!stream) throw new Error("sonicCreateStream failed");
  const inputPointer = sonic._malloc(samples.length * 2);
  let outputPointer = 0;
  try {
    sonic._sonicSetPitch(stream, factor);
    sonic._sonicSetQuality(stream, 1); // full-rate pitch detection
    sonic.HEAP16.set(samples, inputPointer >> 1);
    if (!sonic._sonicWriteShortToStream(stream, inputPointer, samples.length) || !sonic._sonicFlushStream(stream)) {
      throw new Error("Sonic ran out of memory");
    }
    const available = sonic._sonicSamplesAvailable(stream);
    outputPointer = sonic._malloc(Math.max(available, 1) * 2);
    const read = sonic._sonicReadShortFromStream(stream, outputPointer, available);
    // Sonic's flush can end a few milliseconds early or late: pad with silence or cut.
    const out = new Int16Array(samples.length);
    out.set(sonic.HEAP16.subarray(outputPointer >> 1, (outputPointer >> 1) + Math.min(read, samples.length)));
    return out;
  } finally {
    sonic._free(inputPointer);
    if (outputPointer) sonic._free(outputPointer);
    sonic._sonicDestroyStream(stream);
  }
}
