// The output encodings: AudioEncoding in tts.proto is the one list, and this is the one
// table of what belongs to each (its content type, its file extension, its short name).
// The engine's encoders, the RPCs, the OpenAI route, the CLI and the browser page all
// take their names from here. No Node-only imports: the page's bundle uses it too.

import { AudioEncoding, AudioEncodingSchema } from "../../gen/aetheros/tts/v1/tts_pb.js";

/** Every encoding a client can get; UNSPECIFIED means WAV. */
export type OutputEncoding = Exclude<AudioEncoding, AudioEncoding.UNSPECIFIED>;

interface EncodingFacts {
  /** The content type of a file in this encoding at `sampleRate`. */
  readonly contentType: (sampleRate: number) => string;
  /** The usual file name extension, without the dot. */
  readonly extension: string;
  /** Bytes of one sample where the data is the samples themselves (PCM, G.711); undefined for codecs. */
  readonly bytesPerSample?: number;
}

const FACTS: Readonly<Record<OutputEncoding, EncodingFacts>> = {
  [AudioEncoding.WAV]: { contentType: () => "audio/wav", extension: "wav", bytesPerSample: 2 },
  // Headerless: the rate and sample format travel as parameters.
  [AudioEncoding.PCM]: { contentType: (rate) => `audio/pcm;rate=${rate};channels=1;format=s16le`, extension: "pcm", bytesPerSample: 2 },
  [AudioEncoding.MP3]: { contentType: () => "audio/mpeg", extension: "mp3" },
  [AudioEncoding.OGG_OPUS]: { contentType: () => "audio/ogg; codecs=opus", extension: "opus" },
  [AudioEncoding.FLAC]: { contentType: () => "audio/flac", extension: "flac" },
  // RFC 3551's names for G.711 (audio/PCMU is also what audio/basic is at 8 kHz).
  [AudioEncoding.MULAW]: { contentType: (rate) => `audio/PCMU;rate=${rate}`, extension: "ulaw", bytesPerSample: 1 },
  [AudioEncoding.ALAW]: { contentType: (rate) => `audio/PCMA;rate=${rate}`, extension: "alaw", bytesPerSample: 1 },
  [AudioEncoding.WAV_MULAW]: { contentType: () => "audio/wav", extension: "wav", bytesPerSample: 1 },
  [AudioEncoding.WAV_ALAW]: { contentType: () => "audio/wav", extension: "wav", bytesPerSample: 1 },
};

/** Every output encoding, in the proto's order. */
export const OUTPUT_ENCODINGS = Object.keys(FACTS).map(Number) as OutputEncoding[];

/** UNSPECIFIED → WAV; undefined for a number the proto does not define. */
export function outputEncoding(encoding: AudioEncoding): OutputEncoding | undefined {
  if (encoding === AudioEncoding.UNSPECIFIED) return AudioEncoding.WAV;
  return Object.hasOwn(FACTS, encoding) ? (encoding as OutputEncoding) : undefined;
}

/** "wav", "pcm", "mp3", "ogg_opus", "flac": the proto value's name without its prefix, lower case. */
export function encodingName(encoding: OutputEncoding): string {
  return AudioEncodingSchema.value[encoding]!.localName.toLowerCase();
}

export function contentTypeOf(encoding: OutputEncoding, sampleRate: number): string {
  return FACTS[encoding].contentType(sampleRate);
}

export function bytesPerSample(encoding: OutputEncoding): number | undefined {
  return FACTS[encoding].bytesPerSample;
}

export function extensionOf(encoding: OutputEncoding): string {
  return FACTS[encoding].extension;
}

/**
 * The encoding a short name or file extension stands for: "wav", "ogg_opus", "opus", "ogg",
 * "mulaw", "ulaw", "AUDIO_ENCODING_MP3", any case. Undefined when none does. An extension
 * two encodings share (".wav") names the first of them in the proto's order.
 */
export function encodingNamed(name: string): OutputEncoding | undefined {
  const wanted = name.toLowerCase();
  if (wanted === "ogg") return AudioEncoding.OGG_OPUS;
  return OUTPUT_ENCODINGS.find(
    (encoding) =>
      encodingName(encoding) === wanted ||
      extensionOf(encoding) === wanted ||
      AudioEncodingSchema.value[encoding]!.name.toLowerCase() === wanted,
  );
}
