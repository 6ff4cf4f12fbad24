// RIFF/WAVE, mono: 16-bit PCM, or 8-bit G.711 µ-law/A-law samples from g711.ts. A
// container header only: the samples are stored as the sample encoder gives them.
import { concatBytes, EMPTY_BYTES, s16leBytes } from "./bytes.js";
import type { AudioEncoder } from "./types.js";

/** The sample format a WAV file declares: its WAVE format code and sample width. */
export interface WavFormat {
  /** 1 PCM, 6 A-law, 7 µ-law. */
  readonly code: 1 | 6 | 7;
  readonly bytesPerSample: 1 | 2;
  /** The samples as the file stores them. */
  readonly encode: (samples: Int16Array) => Uint8Array;
}

export const PCM16: WavFormat = { code: 1, bytesPerSample: 2, encode: s16leBytes };

// A streamed file's length is unknown when its header goes out. 0xFFFFFFFF is the
// customary "until end of stream" size: ffmpeg reads it so, sox reads every sample and
// warns of a premature end.
const UNKNOWN_SIZE = 0xffffffff;

/**
 * A canonical WAV header; dataBytes undefined means unknown. PCM has the 44-byte header;
 * the G.711 formats, like every non-PCM format, carry an 18-byte fmt chunk and a fact
 * chunk with the sample count (58 bytes).
 */
export function wavHeader(sampleRate: number, dataBytes: number | undefined, format: WavFormat = PCM16): Uint8Array {
  const pcm = format.code === 1;
  const headerBytes = pcm ? 44 : 58;
  const header = new Uint8Array(headerBytes);
  const view = new DataView(header.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) header[offset + i] = text.charCodeAt(i);
  };
  const known = (value: number) => (dataBytes === undefined ? UNKNOWN_SIZE : value);
  ascii(0, "RIFF");
  view.setUint32(4, known(headerBytes - 8 + (dataBytes ?? 0)), true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, pcm ? 16 : 18, true); // fmt chunk size
  view.setUint16(20, format.code, true);
  view.setUint16(22, 1, true); // channels
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * format.bytesPerSample, true); // byte rate
  view.setUint16(32, format.bytesPerSample, true); // block align
  view.setUint16(34, format.bytesPerSample * 8, true); // bits per sample
  let at = 36;
  if (!pcm) {
    view.setUint16(36, 0, true); // cbSize: no extension
    ascii(38, "fact");
    view.setUint32(42, 4, true);
    view.setUint32(46, known((dataBytes ?? 0) / format.bytesPerSample), true);
    at = 50;
  }
  ascii(at, "data");
  view.setUint32(at + 4, known(dataBytes ?? 0), true);
  return header;
}

export function createWavEncoder(sampleRate: number, streaming: boolean, format: WavFormat = PCM16): AudioEncoder {
  let headerSent = false;
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  return {
    sampleRate,
    write(samples) {
      const data = format.encode(samples);
      if (!streaming) {
        held.push(data);
        heldBytes += data.length;
        return EMPTY_BYTES;
      }
      if (headerSent) return data;
      headerSent = true;
      return concatBytes([wavHeader(sampleRate, undefined, format), data]);
    },
    end() {
      if (streaming) return headerSent ? EMPTY_BYTES : wavHeader(sampleRate, undefined, format);
      return concatBytes([wavHeader(sampleRate, heldBytes, format), ...held]);
    },
  };
}
