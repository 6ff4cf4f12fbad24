// Headerless 16-bit signed little-endian PCM (proto AUDIO_ENCODING_PCM).
import { EMPTY_BYTES, s16leBytes } from "./bytes.js";
import type { AudioEncoder } from "./types.js";

/** Every write's bytes go out at once in either mode: there is no header to fill in. */
export function createRawPcmEncoder(sampleRate: number): AudioEncoder {
  return {
    sampleRate,
    write: s16leBytes,
    end: () => EMPTY_BYTES,
  };
}
