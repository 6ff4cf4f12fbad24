// RIFF/WAVE, 16-bit PCM, mono. A container header only: the samples are stored as is.
import { concatBytes, EMPTY_BYTES, s16leBytes } from "./bytes.js";
import type { AudioEncoder } from "./types.js";

const HEADER_BYTES = 44;
// A streamed file's length is unknown when its header goes out. 0xFFFFFFFF is the
// customary "until end of stream" size: ffmpeg reads it so, sox reads every sample and
// warns of a premature end.
const UNKNOWN_SIZE = 0xffffffff;

/** A canonical 44-byte WAV header for mono 16-bit PCM; dataBytes undefined means unknown. */
export function wavHeader(sampleRate: number, dataBytes: number | undefined): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) header[offset + i] = text.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, dataBytes === undefined ? UNKNOWN_SIZE : HEADER_BYTES - 8 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // channels
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  view.setUint32(40, dataBytes === undefined ? UNKNOWN_SIZE : dataBytes, true);
  return header;
}

export function createWavEncoder(sampleRate: number, streaming: boolean): AudioEncoder {
  let headerSent = false;
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  return {
    sampleRate,
    write(samples) {
      const data = s16leBytes(samples);
      if (!streaming) {
        held.push(data);
        heldBytes += data.length;
        return EMPTY_BYTES;
      }
      if (headerSent) return data;
      headerSent = true;
      return concatBytes([wavHeader(sampleRate, undefined), data]);
    },
    end() {
      if (streaming) return headerSent ? EMPTY_BYTES : wavHeader(sampleRate, undefined);
      return concatBytes([wavHeader(sampleRate, heldBytes), ...held]);
    },
  };
}
