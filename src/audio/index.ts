// The audio layer: the engine's samples in, the client's bytes out. For each sentence:
//   floatToPcm16(modelOutput, volume)  Piper's normalization, volume and int16 cast
//   shiftPitch(pcm, voiceRate, pitch)  when pitch != 1
//   resampler.process(pcm)             one resampler per request, when the rate changes
//   encoder.write(pcm)                 one encoder per request; end() after the last sentence
// Between sentences, pass createSilence(sentenceSilence, voiceRate) through the same
// resampler so that its stream sees what the client hears.
export { concatBytes, concatSamples, samplesOf } from "./bytes.js";
export { createEncoder } from "./encoder.js";
export {
  bytesPerSample,
  contentTypeOf,
  encodingName,
  encodingNamed,
  extensionOf,
  OUTPUT_ENCODINGS,
  type OutputEncoding,
  outputEncoding,
} from "./encodings.js";
export type { AudioEncoder, EncoderOptions } from "./types.js";
export { createResampler } from "./resample.js";
export type { Resampler } from "./resample.js";
export { shiftPitch } from "./pitch.js";
export { floatToPcm16 } from "./pcm.js";
export { createSilence } from "./silence.js";
