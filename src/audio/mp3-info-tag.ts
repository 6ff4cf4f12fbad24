// The "Info" frame (Xing header with a LAME extension) that leads a whole CBR MP3 file.
// LAME writes it only when it can seek back to the file's start, which its WebAssembly
// build cannot; without it decoders play LAME's 576-sample encoder delay plus the
// decoder's 529 samples as leading silence and keep the end padding. Layout: the
// Xing/LAME tag specification (gabriel.mp3-tech.org/mp3infotag.html), as LAME 3.100
// writes it. A stream gets no Info frame: its frame count is unknown when it starts, and
// ffmpeg ignores an Info frame without one (it decodes it as a silent frame instead).

/** LAME's encoder delay in samples (ENCDELAY in LAME's encoder.h). */
export const LAME_ENCODER_DELAY = 576;

const SAMPLE_RATE_INDEX: Readonly<Record<number, number>> = {
  44100: 0,
  48000: 1,
  32000: 2, // MPEG-1
  22050: 0,
  24000: 1,
  16000: 2, // MPEG-2
  11025: 0,
  12000: 1,
  8000: 2, // MPEG-2.5
};
const MPEG1_LAYER3_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_LAYER3_KBPS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

const FLAG_FRAMES = 0x1;
const FLAG_BYTES = 0x2;
const FLAG_TOC = 0x4;

export interface Mp3Layout {
  /** MPEG-1 (32 kHz and up) or MPEG-2/2.5 (lower rates): decides frame geometry. */
  mpeg1: boolean;
  /** PCM samples per frame. */
  samplesPerFrame: number;
  /** Bytes of a frame whose padding bit is clear. */
  frameBytes: number;
}

export function mp3Layout(sampleRate: number, kbps: number): Mp3Layout {
  const mpeg1 = sampleRate >= 32000;
  return {
    mpeg1,
    samplesPerFrame: mpeg1 ? 1152 : 576,
    frameBytes: Math.floor(((mpeg1 ? 144 : 72) * kbps * 1000) / sampleRate),
  };
}

/** What the tag records about the whole file. */
export interface Mp3Totals {
  /** Number of audio frames after the Info frame. */
  frames: number;
  /** PCM samples the encoder was given. */
  samples: number;
  /** The audio frames' bytes, for the length and the music CRC. */
  audio: Uint8Array;
}

/** The Info frame for mono CBR audio at `kbps`, with the encoder delay and the end padding. */
export function mp3InfoFrame(sampleRate: number, kbps: number, totals: Mp3Totals): Uint8Array {
  const rateIndex = SAMPLE_RATE_INDEX[sampleRate];
  if (rateIndex === undefined) throw new RangeError(`MP3 has no ${sampleRate} Hz sample rate`);
  const layout = mp3Layout(sampleRate, kbps);
  const bitrateIndex = (layout.mpeg1 ? MPEG1_LAYER3_KBPS : MPEG2_LAYER3_KBPS).indexOf(kbps);
  if (bitrateIndex <= 0) throw new RangeError(`MP3 has no ${kbps} kbit/s bitrate at ${sampleRate} Hz`);
  const versionBits = layout.mpeg1 ? 0b11 : sampleRate >= 16000 ? 0b10 : 0b00;

  const frame = new Uint8Array(layout.frameBytes);
  const view = new DataView(frame.buffer);
  frame[0] = 0xff;
  frame[1] = 0xe0 | (versionBits << 3) | (0b01 << 1) | 1; // layer III, no CRC
  frame[2] = (bitrateIndex << 4) | (rateIndex << 2); // no padding
  frame[3] = (0b11 << 6) | (1 << 2); // mono, original
  // The tag sits where the (all-zero) side information ends.
  let pos = 4 + (layout.mpeg1 ? 17 : 9);
  pos = ascii(frame, pos, "Info");
  const fileBytes = layout.frameBytes + totals.audio.length;
  view.setUint32(pos, FLAG_FRAMES | FLAG_BYTES | FLAG_TOC);
  view.setUint32(pos + 4, totals.frames);
  view.setUint32(pos + 8, fileBytes);
  pos += 12;
  // Constant bitrate: byte offsets grow linearly with time.
  for (let i = 0; i < 100; i++) frame[pos + i] = Math.floor((i * 256) / 100);
  pos += 100;

  const lameTagStart = pos;
  pos = ascii(frame, pos, "LAME3.100");
  frame[pos] = 0x01; // tag revision 0, CBR
  pos += 1 + 1 + 4 + 2 + 2 + 1; // lowpass, peak, radio and audiophile gain, flags: unknown
  frame[pos++] = Math.min(kbps, 255);
  const padding = totals.frames * layout.samplesPerFrame - LAME_ENCODER_DELAY - totals.samples;
  if (padding < 0 || padding > 0xfff) throw new Error(`MP3 end padding ${padding} out of range`);
  frame[pos++] = LAME_ENCODER_DELAY >> 4;
  frame[pos++] = ((LAME_ENCODER_DELAY & 0xf) << 4) | (padding >> 8);
  frame[pos++] = padding & 0xff;
  pos += 1 + 1 + 2; // misc, MP3 gain, preset
  view.setUint32(pos, fileBytes);
  view.setUint16(pos + 4, crc16(totals.audio, 0, totals.audio.length));
  pos += 6;
  if (pos - lameTagStart !== 34) throw new Error("LAME tag layout error");
  view.setUint16(pos, crc16(frame, 0, pos));
  return frame;
}

function ascii(target: Uint8Array, offset: number, text: string): number {
  for (let i = 0; i < text.length; i++) target[offset + i] = text.charCodeAt(i);
  return offset + text.length;
}

/** CRC-16/ARC (reflected polynomial 0xA001), the checksum the LAME tag uses. */
function crc16(data: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= data[i]!;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}
