import type { CacheEntry, TimedWord } from "./entry.js";

/*
 * The byte form shared by the disk and Redis tiers:
 *
 *   "AETC" | version (u8) | header length (u32 BE) | header JSON (UTF-8) | audio bytes
 *
 * The header carries the metadata, the entry's key and the audio length, so a
 * value read back under the wrong key or cut short is rejected rather than
 * served. JSON keeps the header readable and extensible; the audio stays raw.
 */

const MAGIC = Buffer.from("AETC", "latin1");
const VERSION = 1;
const PREAMBLE_BYTES = MAGIC.length + 1 + 4;

interface Header {
  key: string;
  storedAt: number;
  encoding: string;
  sampleRate: number;
  durationSeconds: number;
  modelUsed: string;
  sentenceByteEnds?: number[];
  sentenceSampleStarts?: number[];
  words?: TimedWord[];
  wordsText?: string;
  byteLength: number;
}

export function encodeEntry(key: string, entry: CacheEntry): Buffer {
  const { audio } = entry;
  const header: Header = {
    key,
    storedAt: entry.storedAt,
    encoding: audio.encoding,
    sampleRate: audio.sampleRate,
    durationSeconds: audio.durationSeconds,
    modelUsed: audio.modelUsed,
    sentenceByteEnds: audio.sentenceByteEnds,
    sentenceSampleStarts: audio.sentenceSampleStarts,
    words: audio.words,
    wordsText: audio.wordsText,
    byteLength: audio.bytes.byteLength,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), "utf8");
  const preamble = Buffer.alloc(PREAMBLE_BYTES);
  MAGIC.copy(preamble, 0);
  preamble.writeUInt8(VERSION, MAGIC.length);
  preamble.writeUInt32BE(headerBytes.length, MAGIC.length + 1);
  return Buffer.concat([preamble, headerBytes, audio.bytes]);
}

/** Decodes a value stored under `key`; throws when it is not a whole, matching entry. */
export function decodeEntry(key: string, data: Uint8Array): CacheEntry {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buffer.length < PREAMBLE_BYTES || !buffer.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error("cache entry: not an AETC entry");
  }
  const version = buffer.readUInt8(MAGIC.length);
  if (version !== VERSION) throw new Error(`cache entry: unknown version ${version}`);
  const headerEnd = PREAMBLE_BYTES + buffer.readUInt32BE(MAGIC.length + 1);
  if (headerEnd > buffer.length) throw new Error("cache entry: header cut short");
  const header = parseHeader(buffer.subarray(PREAMBLE_BYTES, headerEnd).toString("utf8"));
  if (header.key !== key) throw new Error("cache entry: stored under another key");
  if (buffer.length - headerEnd !== header.byteLength) {
    throw new Error(`cache entry: ${buffer.length - headerEnd} audio bytes, header says ${header.byteLength}`);
  }
  return {
    storedAt: header.storedAt,
    audio: {
      // A copy, so a hit never pins the larger buffer it was read into (a socket or file read).
      bytes: new Uint8Array(buffer.subarray(headerEnd)),
      encoding: header.encoding,
      sampleRate: header.sampleRate,
      durationSeconds: header.durationSeconds,
      modelUsed: header.modelUsed,
      ...(header.sentenceByteEnds && { sentenceByteEnds: header.sentenceByteEnds }),
      ...(header.sentenceSampleStarts && { sentenceSampleStarts: header.sentenceSampleStarts }),
      ...(header.words && header.wordsText !== undefined && { words: header.words, wordsText: header.wordsText }),
    },
  };
}

function parseHeader(json: string): Header {
  const value: unknown = JSON.parse(json);
  if (typeof value !== "object" || value === null) throw new Error("cache entry: header is not an object");
  const header = value as Record<string, unknown>;
  const strings = ["key", "encoding", "modelUsed"] as const;
  const numbers = ["storedAt", "sampleRate", "durationSeconds", "byteLength"] as const;
  for (const field of strings) {
    if (typeof header[field] !== "string") throw new Error(`cache entry: header ${field} is not a string`);
  }
  for (const field of numbers) {
    if (typeof header[field] !== "number") throw new Error(`cache entry: header ${field} is not a number`);
  }
  for (const field of ["sentenceByteEnds", "sentenceSampleStarts"] as const) {
    const list = header[field];
    if (list !== undefined && !(Array.isArray(list) && list.every(Number.isSafeInteger))) {
      throw new Error(`cache entry: header ${field} is not a list of integers`);
    }
  }
  const words = header.words;
  if (words !== undefined && !(Array.isArray(words) && words.every(isTimedWord) && typeof header.wordsText === "string")) {
    throw new Error("cache entry: header words are not a list of timed words with their text");
  }
  return header as unknown as Header;
}

function isTimedWord(value: unknown): value is TimedWord {
  if (typeof value !== "object" || value === null) return false;
  const word = value as Record<string, unknown>;
  return (
    typeof word.word === "string" &&
    ["textStart", "textEnd", "sentenceIndex"].every((field) => Number.isSafeInteger(word[field])) &&
    ["startSeconds", "endSeconds"].every((field) => Number.isFinite(word[field]))
  );
}
