// OGG_OPUS: libopus through @evan/opus, in-process: its prebuilt native addon ships
// inside the npm package (platforms without one get its WebAssembly build).
//
// libopus takes 8, 12, 16, 24 or 48 kHz input. Other rates are resampled (resample.ts)
// to the next of 16, 24 and 48 kHz up, which keeps the whole band for less work than
// always going to 48 kHz (5 s of 22.05 kHz speech: 65 ms through 24 kHz, 95 ms through
// 48 kHz). Narrowband input is avoided because ffmpeg's own Opus decoder garbles some
// narrowband SILK streams that libopus decodes cleanly. Decoders output 48 kHz whatever
// the input rate, so that is the rate this encoder reports; OpusHead carries the
// requested rate as the input rate, and granule positions and pre-skip count 48 kHz
// samples.
//
// Ogg framing (ogg.ts) and the Opus headers (RFC 7845) are written here because the
// in-process Ogg Opus muxers on npm either hard-code an 80 ms pre-skip and never trim the
// end (opus-recorder and its forks), or are asynchronous and hold pages back until 8 KiB
// (Mediabunny), which would delay every streamed sentence.
import { randomInt } from "node:crypto";
import { Encoder } from "@evan/opus";
import { concatBytes, EMPTY_BYTES } from "./bytes.js";
import { MAX_SEGMENTS_PER_PAGE, OggPageWriter, segmentsFor } from "./ogg.js";
import { createResampler } from "./resample.js";
import type { AudioEncoder } from "./types.js";

/** Opus input rates used, each with a mono speech bitrate at or above RFC 7587's advice (3.1.1). */
const BITRATE_BY_INPUT_RATE = new Map([
  [16000, 24000],
  [24000, 32000],
  [48000, 32000],
] as const);
type OpusInputRate = typeof BITRATE_BY_INPUT_RATE extends Map<infer K, unknown> ? K : never;
const DECODED_RATE = 48000;
const FRAME_48K = 960; // 20 ms
const OPUS_GET_LOOKAHEAD = 4027;
/** A whole file's pages hold one second each; a stream's page holds what one write() produced. */
const PACKETS_PER_FILE_PAGE = 50;

export async function createOggOpusEncoder(sampleRate: number, streaming: boolean): Promise<AudioEncoder> {
  const inputRate = opusInputRate(sampleRate);
  const resampler = sampleRate === inputRate ? undefined : await createResampler(sampleRate, inputRate);
  const opus = new Encoder({ channels: 1, sample_rate: inputRate, application: "audio" });
  opus.signal = "voice";
  opus.bitrate = BITRATE_BY_INPUT_RATE.get(inputRate)!;
  const to48k = DECODED_RATE / inputRate; // an integer for every Opus rate
  const frameSamples = FRAME_48K / to48k;
  // Decoders drop this many leading samples: the encoder's lookahead.
  const preSkip = opus.ctl(OPUS_GET_LOOKAHEAD) * to48k;
  const ogg = new OggPageWriter(randomInt(2 ** 32));

  const ready: Uint8Array[] = [ogg.page([opusHead(preSkip, sampleRate)], 0, { bos: true }), ogg.page([opusTags()], 0)];
  const frame = new Int16Array(frameSamples);
  let frameFill = 0;
  let samplesIn = 0; // at the encoder's input rate
  let granulePosition = 0; // 48 kHz samples in the packets encoded so far
  let pagePackets: Uint8Array[] = [];
  let pageSegments = 0;

  const flushPage = (pageGranule: number, eos: boolean) => {
    if (pagePackets.length === 0) return;
    ready.push(ogg.page(pagePackets, pageGranule, { eos }));
    pagePackets = [];
    pageSegments = 0;
  };
  const encodeFrame = () => {
    // @evan/opus returns a view of a buffer that every encoder shares: copy it.
    const packet = new Uint8Array(opus.encode(frame));
    frameFill = 0;
    if (pageSegments + segmentsFor(packet.length) > MAX_SEGMENTS_PER_PAGE) flushPage(granulePosition, false);
    pagePackets.push(packet);
    pageSegments += segmentsFor(packet.length);
    granulePosition += FRAME_48K;
    if (!streaming && pagePackets.length >= PACKETS_PER_FILE_PAGE) flushPage(granulePosition, false);
  };
  const take = () => {
    const bytes = ready.length === 0 ? EMPTY_BYTES : concatBytes(ready);
    ready.length = 0;
    return bytes;
  };

  return {
    sampleRate: DECODED_RATE,
    write(samples) {
      const input = resampler ? resampler.process(samples) : samples;
      samplesIn += input.length;
      for (let offset = 0; offset < input.length; ) {
        const n = Math.min(frameSamples - frameFill, input.length - offset);
        frame.set(input.subarray(offset, offset + n), frameFill);
        frameFill += n;
        offset += n;
        if (frameFill === frameSamples) encodeFrame();
      }
      if (streaming) flushPage(granulePosition, false);
      return take();
    },
    end() {
      // Encode silence until the decoded output, after the pre-skip, covers every input
      // sample; the last page's granule position then trims the excess (RFC 7845 4.4).
      const decodedEnd = preSkip + samplesIn * to48k;
      while (frameFill > 0 || granulePosition < decodedEnd) {
        frame.fill(0, frameFill);
        encodeFrame();
      }
      flushPage(decodedEnd, true);
      return take();
    },
  };
}

/** The lowest Opus input rate at or above `sampleRate`. */
function opusInputRate(sampleRate: number): OpusInputRate {
  for (const rate of BITRATE_BY_INPUT_RATE.keys()) if (rate >= sampleRate) return rate;
  return DECODED_RATE;
}

/** Identification header (RFC 7845 5.1): mono, channel mapping family 0. */
function opusHead(preSkip: number, inputSampleRate: number): Uint8Array {
  const head = new Uint8Array(19);
  const view = new DataView(head.buffer);
  head.set(new TextEncoder().encode("OpusHead"), 0);
  head[8] = 1; // version
  head[9] = 1; // channels
  view.setUint16(10, preSkip, true);
  view.setUint32(12, inputSampleRate, true);
  view.setInt16(16, 0, true); // output gain
  head[18] = 0; // mapping family
  return head;
}

/** Comment header (RFC 7845 5.2) with a vendor string and no comments. */
function opusTags(): Uint8Array {
  const vendor = new TextEncoder().encode("AetherOS TTS (libopus)");
  const tags = new Uint8Array(8 + 4 + vendor.length + 4);
  const view = new DataView(tags.buffer);
  tags.set(new TextEncoder().encode("OpusTags"), 0);
  view.setUint32(8, vendor.length, true);
  tags.set(vendor, 12);
  view.setUint32(12 + vendor.length, 0, true);
  return tags;
}
