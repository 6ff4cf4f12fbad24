// The one entry point for encoding: every encoding behind the same streaming interface,
// used for whole files (streaming: false) and for streams alike.
import { createFlacEncoder } from "./flac.js";
import { createG711Encoder, g711Format } from "./g711.js";
import { createMp3Encoder } from "./mp3.js";
import { createOggOpusEncoder } from "./opus.js";
import { createRawPcmEncoder } from "./raw-pcm.js";
import { AudioEncoding } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { encodingName, type OutputEncoding } from "./encodings.js";
import type { AudioEncoder, EncoderOptions } from "./types.js";
import { createWavEncoder } from "./wav.js";

/**
 * An encoder for mono 16-bit PCM at `sampleRate`. Asynchronous only because a codec's
 * WebAssembly is compiled on first use; write() and end() are synchronous.
 */
export async function createEncoder(encoding: OutputEncoding, sampleRate: number, opts: EncoderOptions): Promise<AudioEncoder> {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`invalid sample rate ${sampleRate}`);
  const encoder = await codecEncoder(encoding, sampleRate, opts.streaming);
  return endsOnce(encoder, encoding);
}

function codecEncoder(encoding: OutputEncoding, sampleRate: number, streaming: boolean): AudioEncoder | Promise<AudioEncoder> {
  switch (encoding) {
    case AudioEncoding.WAV:
      return createWavEncoder(sampleRate, streaming);
    case AudioEncoding.PCM:
      return createRawPcmEncoder(sampleRate);
    case AudioEncoding.MP3:
      return createMp3Encoder(sampleRate, streaming);
    case AudioEncoding.OGG_OPUS:
      return createOggOpusEncoder(sampleRate, streaming);
    case AudioEncoding.FLAC:
      return createFlacEncoder(sampleRate, streaming);
    case AudioEncoding.MULAW:
      return createG711Encoder("mulaw", sampleRate);
    case AudioEncoding.ALAW:
      return createG711Encoder("alaw", sampleRate);
    case AudioEncoding.WAV_MULAW:
      return createWavEncoder(sampleRate, streaming, g711Format("mulaw"));
    case AudioEncoding.WAV_ALAW:
      return createWavEncoder(sampleRate, streaming, g711Format("alaw"));
    default:
      throw new RangeError(`unknown encoding ${String(encoding satisfies never)}`);
  }
}

/** Rejects use after end(): a codec's state is freed there. */
function endsOnce(encoder: AudioEncoder, encoding: OutputEncoding): AudioEncoder {
  let ended = false;
  const check = () => {
    if (ended) throw new Error(`${encodingName(encoding)} encoder used after end()`);
  };
  return {
    sampleRate: encoder.sampleRate,
    write(samples) {
      check();
      return encoder.write(samples);
    },
    end() {
      check();
      ended = true;
      return encoder.end();
    },
  };
}
