// MP3: LAME 3.100 compiled to WebAssembly (wasm-media-encoders), in-process and
// synchronous. The module is compiled once; each encoder gets its own instance.
// Constant bitrate, so a stream's duration can be estimated from any frame. A whole file
// starts with an Info frame (mp3-info-tag.ts) that tells decoders how much encoder delay
// and padding to trim; a stream cannot know its length up front, so it decodes with
// LAME's usual 1105 samples of leading silence and up to two frames of trailing padding.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createEncoder as createWasmEncoder } from "wasm-media-encoders";
import { concatBytes, EMPTY_BYTES } from "./bytes.js";
import { mp3InfoFrame, mp3Layout } from "./mp3-info-tag.js";
import type { AudioEncoder } from "./types.js";

type Kbps = 24 | 48 | 64 | 96;

/** Mono speech bitrates, about 3 bits per sample at low rates and 2 at high ones. */
const CBR_KBPS: Readonly<Record<number, Kbps>> = {
  8000: 24,
  16000: 48,
  22050: 64,
  24000: 64,
  44100: 96,
  48000: 96,
};

let lameModule: Promise<WebAssembly.Module> | undefined;

function compileLame(): Promise<WebAssembly.Module> {
  lameModule ??= readFile(createRequire(import.meta.url).resolve("wasm-media-encoders/wasm/mp3")).then((bytes) =>
    WebAssembly.compile(bytes),
  );
  return lameModule;
}

export async function createMp3Encoder(sampleRate: number, streaming: boolean): Promise<AudioEncoder> {
  const kbps = CBR_KBPS[sampleRate];
  if (kbps === undefined) throw new RangeError(`MP3 output does not support ${sampleRate} Hz`);
  const lame = await createWasmEncoder("audio/mpeg", await compileLame());
  lame.configure({ sampleRate, channels: 1, bitrate: kbps });
  const layout = mp3Layout(sampleRate, kbps);

  let samplesIn = 0;
  const held: Uint8Array[] = [];
  // LAME's output buffer is reused by the next call, hence the copies.
  const encode = (samples: Int16Array) => lame.encode([int16ToFloat(samples)]).slice();

  return {
    sampleRate,
    write(samples) {
      samplesIn += samples.length;
      const frames = encode(samples);
      if (streaming) return frames;
      held.push(frames);
      return EMPTY_BYTES;
    },
    end() {
      const last = lame.finalize().slice();
      if (streaming) return last;
      const audio = concatBytes([...held, last]);
      const frames = countFrames(audio, layout.frameBytes);
      return concatBytes([mp3InfoFrame(sampleRate, kbps, { frames, samples: samplesIn, audio }), audio]);
    },
  };
}

function int16ToFloat(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / 32768;
  return out;
}

/** Frames in LAME's CBR output: each is frameBytes long, plus one when its padding bit is set. */
function countFrames(audio: Uint8Array, frameBytes: number): number {
  let frames = 0;
  for (let pos = 0; pos < audio.length; frames++) {
    if (audio[pos] !== 0xff || (audio[pos + 1]! & 0xe0) !== 0xe0) {
      throw new Error(`LAME output lost frame sync at byte ${pos}`);
    }
    pos += frameBytes + ((audio[pos + 2]! >> 1) & 1);
  }
  return frames;
}
