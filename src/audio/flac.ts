// FLAC: libFLAC 1.3.4 compiled by Emscripten (libflacjs), in-process and synchronous.
// Its asm.js build is used: the WebAssembly build fetch()es its .wasm by file path,
// which fails under Node 18 and later. libFLAC writes the stream header first and
// then whole frames of 4096 samples; with no way to seek back, STREAMINFO leaves the
// length and MD5 unknown, which is what a stream keeps. A whole file gets them patched
// in from the final STREAMINFO that libFLAC reports when it finishes.
import FlacFactory from "libflacjs";
import { concatBytes, EMPTY_BYTES } from "./bytes.js";
import type { AudioEncoder } from "./types.js";

const COMPRESSION_LEVEL = 5; // libFLAC's default
const STREAMINFO_OFFSET = 8; // after "fLaC" and the metadata block header

type Flac = ReturnType<typeof FlacFactory>;
let flacLibrary: Promise<Flac> | undefined;

// An encoder dropped without end(), say by a stream whose client went away, would leave
// its libFLAC state in the shared asm.js heap: free it when the encoder is collected.
const abandoned = new FinalizationRegistry<{ flac: Flac; encoder: number }>(({ flac, encoder }) => {
  flac.FLAC__stream_encoder_delete(encoder);
});

function loadFlac(): Promise<Flac> {
  flacLibrary ??= new Promise((resolve) => {
    const flac = FlacFactory("release.asmjs");
    if (flac.isReady()) resolve(flac);
    else flac.on("ready", () => resolve(flac));
  });
  return flacLibrary;
}

export async function createFlacEncoder(sampleRate: number, streaming: boolean): Promise<AudioEncoder> {
  const flac = await loadFlac();
  const encoder = flac.create_libflac_encoder(sampleRate, 1, 16, COMPRESSION_LEVEL, 0, false, 0);
  if (!encoder) throw new Error(`libFLAC cannot encode ${sampleRate} Hz`);
  const sink = outputSink();
  const status = flac.init_encoder_stream(encoder, sink.onWrite, sink.onMetadata);
  if (status !== 0) {
    flac.FLAC__stream_encoder_delete(encoder);
    throw new Error(`libFLAC encoder init failed (status ${status})`);
  }
  const take = () => {
    const bytes = sink.chunks.length === 0 ? EMPTY_BYTES : concatBytes(sink.chunks);
    sink.chunks = [];
    return bytes;
  };

  const flacEncoder: AudioEncoder = {
    sampleRate,
    write(samples) {
      if (!flac.FLAC__stream_encoder_process_interleaved(encoder, Int32Array.from(samples), samples.length)) {
        throw new Error("libFLAC failed to encode");
      }
      return streaming ? take() : EMPTY_BYTES;
    },
    end() {
      abandoned.unregister(flacEncoder);
      const finished = flac.FLAC__stream_encoder_finish(encoder);
      flac.FLAC__stream_encoder_delete(encoder);
      if (!finished || !sink.finalInfo) throw new Error("libFLAC failed to finish the stream");
      if (streaming) return take();
      const file = take();
      patchStreamInfo(file, sink.finalInfo);
      return file;
    },
  };
  abandoned.register(flacEncoder, { flac, encoder }, flacEncoder);
  return flacEncoder;
}

interface OutputSink {
  chunks: Uint8Array[];
  finalInfo: FlacStreamInfo | undefined;
  onWrite: FlacFactory.encoder_write_callback_fn;
  onMetadata: FlacFactory.metadata_callback_fn;
}

/**
 * libflacjs keeps the callbacks for the encoder's lifetime, so they are made here, apart
 * from the AudioEncoder: closures sharing its scope would keep it from being collected.
 */
function outputSink(): OutputSink {
  const sink: OutputSink = {
    chunks: [],
    finalInfo: undefined,
    onWrite: (data, bytes) => {
      sink.chunks.push(data.slice(0, bytes)); // the data lives in libFLAC's heap
    },
    onMetadata: (metadata) => {
      if (metadata) sink.finalInfo = metadata;
    },
  };
  return sink;
}

interface FlacStreamInfo {
  min_framesize: number;
  max_framesize: number;
  total_samples: number;
  md5sum: string;
}

/** Writes the frame sizes, sample count and MD5 into the STREAMINFO block (FLAC format spec). */
function patchStreamInfo(file: Uint8Array, info: FlacStreamInfo): void {
  const at = STREAMINFO_OFFSET;
  const put24 = (offset: number, value: number) => {
    file[offset] = value >>> 16;
    file[offset + 1] = (value >>> 8) & 0xff;
    file[offset + 2] = value & 0xff;
  };
  put24(at + 4, info.min_framesize);
  put24(at + 7, info.max_framesize);
  // 36-bit sample count: the low nibble of byte 13 and bytes 14 to 17.
  file[at + 13] = (file[at + 13]! & 0xf0) | Math.floor(info.total_samples / 2 ** 32);
  new DataView(file.buffer, file.byteOffset).setUint32(at + 14, info.total_samples >>> 0);
  for (let i = 0; i < 16; i++) file[at + 18 + i] = parseInt(info.md5sum.slice(2 * i, 2 * i + 2), 16);
}
