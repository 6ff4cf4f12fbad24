import { endianness } from "node:os";

// Int16Array memory is host-endian; every format we write stores little-endian samples.
if (endianness() !== "LE") {
  throw new Error("src/audio assumes a little-endian host");
}

/** The samples as 16-bit signed little-endian bytes (a copy). */
export function s16leBytes(samples: Int16Array): Uint8Array {
  return new Uint8Array(samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength));
}

/** All chunks joined into one array. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** s16le bytes as samples (a copy, so the samples are aligned whatever the bytes' offset). */
export function samplesOf(bytes: Uint8Array): Int16Array {
  return new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Two runs of samples, one after the other. */
export function concatSamples(a: Int16Array, b: Int16Array): Int16Array {
  const joined = new Int16Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

export const EMPTY_BYTES = new Uint8Array(0);
