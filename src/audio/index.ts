// The audio layer's public API: model samples in, client bytes out.
export { createEncoder } from "./encoder.js";
export type { AudioEncoder, EncoderOptions, Encoding } from "./types.js";
export { createResampler } from "./resample.js";
export type { Resampler } from "./resample.js";
export { shiftPitch } from "./pitch.js";
export { applyGain } from "./gain.js";
export { floatToPcm16 } from "./pcm.js";
export { createSilence } from "./silence.js";
