// OGG_OPUS: libopus through @evan/opus, whose prebuilt native addon ships inside the npm
// package (platforms without one get its WebAssembly build): in-process, 37 ms to encode
// 5 s. Opus only codes 8/12/16/24/48 kHz, and decoders output 48 kHz, so input is
// resampled to 48 kHz (resample.ts) and OpusHead records the requested rate as the
// input rate. Ogg framing (ogg.ts) and the Opus headers (RFC 7845) are written here:
// the in-process Ogg Opus muxers on npm either hard-code an 80 ms pre-skip and never
// trim the end (opus-recorder and its forks), or are asynchronous and hold pages until
// 8 KiB (Mediabunny), which delays every streamed sentence.
import { randomInt } from "node:crypto";
import { Encoder } from "@evan/opus";
import { concatBytes, EMPTY_BYTES } from "./bytes.js";
import { MAX_SEGMENTS_PER_PAGE, OggPageWriter, segmentsFor } from "./ogg.js";
import { createResampler } from "./resample.js";
import type { AudioEncoder } from "./types.js";

const OPUS_RATE = 48000;
const FRAME_SAMPLES = 960; // 20 ms
const BITRATE = 32000; // fullband mono speech
const OPUS_GET_LOOKAHEAD = 4027;
/** A whole file's pages hold one second each; a stream's page holds what one write() produced. */
const PACKETS_PER_FILE_PAGE = 50;

export async function createOggOpusEncoder(sampleRate: number, streaming: boolean): Promise<AudioEncoder> {
  const resampler = sampleRate === OPUS_RATE ? undefined : await createResampler(sampleRate, OPUS_RATE);
  const opus = new Encoder({ channels: 1, sample_rate: OPUS_RATE, application: "audio" });
  opus.signal = "voice";
  opus.bitrate = BITRATE;
  // Decoders drop this many leading samples: the encoder's lookahead.
  const preSkip = opus.ctl(OPUS_GET_LOOKAHEAD);
  const ogg = new OggPageWriter(randomInt(2 ** 32));

  const ready: Uint8Array[] = [ogg.page([opusHead(preSkip, sampleRate)], 0, { bos: true }), ogg.page([opusTags()], 0)];
  const frame = new Int16Array(FRAME_SAMPLES);
  let frameFill = 0;
  let samplesIn = 0; // at 48 kHz
  let granulePosition = 0; // samples in the packets encoded so far
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
    granulePosition += FRAME_SAMPLES;
    if (!streaming && pagePackets.length >= PACKETS_PER_FILE_PAGE) flushPage(granulePosition, false);
  };
  const take = () => {
    const bytes = ready.length === 0 ? EMPTY_BYTES : concatBytes(ready);
    ready.length = 0;
    return bytes;
  };

  return {
    mimeType: "audio/ogg; codecs=opus",
    sampleRate: OPUS_RATE,
    write(samples) {
      const input = resampler ? resampler.process(samples) : samples;
      samplesIn += input.length;
      for (let offset = 0; offset < input.length; ) {
        const n = Math.min(FRAME_SAMPLES - frameFill, input.length - offset);
        frame.set(input.subarray(offset, offset + n), frameFill);
        frameFill += n;
        offset += n;
        if (frameFill === FRAME_SAMPLES) encodeFrame();
      }
      if (streaming) flushPage(granulePosition, false);
      return take();
    },
    end() {
      // Encode silence until the decoded output, after the pre-skip, covers every input
      // sample; the last page's granule position then trims the excess (RFC 7845 4.4).
      const decodedEnd = preSkip + samplesIn;
      while (frameFill > 0 || granulePosition < decodedEnd) {
        frame.fill(0, frameFill);
        encodeFrame();
      }
      flushPage(decodedEnd, true);
      return take();
    },
  };
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
