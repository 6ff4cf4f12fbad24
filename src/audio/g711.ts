// G.711 µ-law (PCMU) and A-law (PCMA): 8-bit companded samples, headerless or in WAV.
// The companding is alawmulaw's, not a table of our own.
import { createRequire } from "node:module";
import { EMPTY_BYTES } from "./bytes.js";
import type { AudioEncoder } from "./types.js";
import type { WavFormat } from "./wav.js";

// alawmulaw ships a UMD bundle as its CommonJS entry; Node's ESM loader sees only its
// default export there, while its type declarations name alaw and mulaw: require() gives both.
const { alaw, mulaw } = createRequire(import.meta.url)("alawmulaw") as typeof import("alawmulaw");

export type Law = "mulaw" | "alaw";

/** The WAV sample format of a G.711 law (format codes 7 and 6). */
export function g711Format(law: Law): WavFormat {
  return law === "mulaw" ? { code: 7, bytesPerSample: 1, encode: mulaw.encode } : { code: 6, bytesPerSample: 1, encode: alaw.encode };
}

/** Headerless G.711: every write's bytes go out at once, in either mode. */
export function createG711Encoder(law: Law, sampleRate: number): AudioEncoder {
  const { encode } = g711Format(law);
  return { sampleRate, write: encode, end: () => EMPTY_BYTES };
}
