// Shared helpers for the end-to-end synthesis tests: real clients for a server started
// with startServer(), stream collection, log waiting, and independent audio measurements
// (ffmpeg/ffprobe decoding from test/audio/support.ts, a YIN pitch estimate per frame).

import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type Message, type MessageInitShape } from "@bufbuild/protobuf";
import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  AudioEncoding,
  TtsService,
  type SynthesisConfigSchema,
  type AudioChunk,
  type StreamStart,
  type StreamSummary,
  type SynthesizeStreamResponse,
} from "../../gen/aetheros/tts/v1/tts_pb.js";
import type { RunningServer } from "../server/running-server.js";

export { decode, probe } from "../audio/support.js";

export const VOICE = "en_US-joe-medium";
export const VOICE_RATE = 22050;

export const ENCODINGS = [
  { name: "WAV", value: AudioEncoding.WAV, codec: "pcm_s16le" },
  { name: "PCM", value: AudioEncoding.PCM, codec: "pcm_s16le" },
  { name: "MP3", value: AudioEncoding.MP3, codec: "mp3" },
  { name: "OGG_OPUS", value: AudioEncoding.OGG_OPUS, codec: "opus" },
  { name: "FLAC", value: AudioEncoding.FLAC, codec: "flac" },
] as const;

/** Deterministic generator and duration noise: the same request gives the same samples. */
export const NO_NOISE = { noiseScale: 0, noiseW: 0 } as const;

/** LAME's encoder delay (576) plus the MP3 decoder's delay (529), see src/audio/mp3.ts. */
export const MP3_STREAM_LEAD = 1105;
export const mp3SamplesPerFrame = (rate: number) => (rate >= 32000 ? 1152 : 576);

export type TransportName = "gRPC" | "Connect";

/** A SynthesisConfig as a plain object, for request literals. */
export type Config = MessageInitShape<typeof SynthesisConfigSchema>;

const transports = new WeakMap<RunningServer, Map<TransportName, Transport>>();

/** One transport (one HTTP/2 connection) per server and protocol. */
export function transport(running: RunningServer, name: TransportName): Transport {
  let byName = transports.get(running);
  if (!byName) transports.set(running, (byName = new Map()));
  let made = byName.get(name);
  if (!made) {
    made =
      name === "gRPC"
        ? createGrpcTransport({ baseUrl: running.baseUrl })
        : createConnectTransport({ baseUrl: running.baseUrl, httpVersion: "2", useBinaryFormat: true });
    byName.set(name, made);
  }
  return made;
}

export function ttsClient(running: RunningServer, name: TransportName = "gRPC"): Client<typeof TtsService> {
  return createClient(TtsService, transport(running, name));
}

/** A generic @grpc/grpc-js client for TtsService (an independent gRPC implementation). */
export function grpcJsClient(running: RunningServer): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
  const definition: Record<string, grpc.MethodDefinition<MessageInitShape<DescMessage>, Message>> = {};
  for (const method of TtsService.methods as DescMethod[]) {
    definition[method.localName] = {
      path: `/${TtsService.typeName}/${method.name}`,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: (value) => Buffer.from(toBinary(method.input, create(method.input, value))),
      requestDeserialize: (bytes) => fromBinary(method.input, bytes),
      responseSerialize: (value) => Buffer.from(toBinary(method.output, value)),
      responseDeserialize: (bytes) => fromBinary(method.output, bytes),
    };
  }
  const Client = grpc.makeGenericClientConstructor(definition, TtsService.name);
  return new Client(`127.0.0.1:${running.server.port}`, grpc.credentials.createInsecure()) as never;
}

export interface CollectedStream {
  /** Every message's case, in order. */
  cases: string[];
  start: StreamStart | undefined;
  chunks: AudioChunk[];
  summary: StreamSummary | undefined;
  /** The chunks' bytes, concatenated. */
  audio: Uint8Array;
}

export async function collectStream(messages: AsyncIterable<SynthesizeStreamResponse>): Promise<CollectedStream> {
  const collected: CollectedStream = { cases: [], start: undefined, chunks: [], summary: undefined, audio: new Uint8Array(0) };
  for await (const message of messages) {
    collected.cases.push(message.event.case ?? "none");
    if (message.event.case === "start") collected.start = message.event.value;
    else if (message.event.case === "chunk") collected.chunks.push(message.event.value);
    else if (message.event.case === "summary") collected.summary = message.event.value;
  }
  collected.audio = Buffer.concat(collected.chunks.map((chunk) => chunk.audio));
  return collected;
}

/**
 * The first log line written after index `since` that matches; waits for it (bounded by
 * `limitMs` so that a missing line fails with a clear message rather than a test timeout).
 */
export async function waitForLog(
  running: RunningServer,
  since: number,
  matches: (line: Record<string, unknown>) => boolean,
  limitMs = 60_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const line = running.logLines.slice(since).find(matches);
    if (line) return line;
    if (Date.now() > deadline) {
      throw new Error(`no matching log line after ${limitMs} ms; lines since: ${JSON.stringify(running.logLines.slice(since))}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The largest magnitude among the samples. */
export function peak(samples: Int16Array): number {
  let max = 0;
  for (const sample of samples) max = Math.max(max, Math.abs(sample));
  return max;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * F0 by YIN (de Cheveigné and Kawahara 2002) over one window: the first dip of the
 * cumulative-mean-normalized difference below `threshold` within 60 to 500 Hz, refined by
 * parabolic interpolation; NaN when there is none (an unvoiced or silent window). Picking
 * the first dip, not the deepest, avoids octave errors.
 */
export function yin(samples: Int16Array, sampleRate: number, from: number, window: number, threshold: number): number {
  const minLag = Math.floor(sampleRate / 500);
  const maxLag = Math.ceil(sampleRate / 60);
  const cmnd = new Float64Array(maxLag + 2);
  let runningSum = 0;
  cmnd[0] = 1;
  for (let lag = 1; lag <= maxLag + 1; lag++) {
    let difference = 0;
    for (let i = from; i < from + window; i++) {
      const d = samples[i]! - samples[i + lag]!;
      difference += d * d;
    }
    runningSum += difference;
    cmnd[lag] = runningSum === 0 ? 1 : (difference * lag) / runningSum;
  }
  for (let lag = minLag; lag <= maxLag; lag++) {
    if (cmnd[lag]! >= threshold) continue;
    while (lag < maxLag && cmnd[lag + 1]! < cmnd[lag]!) lag++;
    const [a, b, c] = [cmnd[lag - 1]!, cmnd[lag]!, cmnd[lag + 1]!];
    const denominator = a - 2 * b + c;
    return sampleRate / (lag + (denominator === 0 ? 0 : (a - c) / (2 * denominator)));
  }
  return Number.NaN;
}

/**
 * F0 of every frame, NaN where unvoiced: 30 ms YIN windows every 10 ms (threshold 0.2);
 * frames quieter than a tenth of the loudest frame's RMS count as unvoiced.
 */
export function f0Track(samples: Int16Array, sampleRate: number): number[] {
  const window = Math.round(0.03 * sampleRate);
  const hop = Math.round(0.01 * sampleRate);
  const lagRoom = Math.ceil(sampleRate / 60) + 2; // yin reads this far past the window
  const frames: { from: number; rms: number }[] = [];
  for (let from = 0; from + window + lagRoom < samples.length; from += hop) {
    let sum = 0;
    for (let i = from; i < from + window; i++) sum += samples[i]! * samples[i]!;
    frames.push({ from, rms: Math.sqrt(sum / window) });
  }
  const loudest = Math.max(...frames.map((frame) => frame.rms));
  return frames.map((frame) => (frame.rms < loudest / 10 ? Number.NaN : yin(samples, sampleRate, frame.from, window, 0.2)));
}

export const voiced = (track: readonly number[]): number[] => track.filter((f0) => !Number.isNaN(f0));

/** Samples at or beyond ±limit. */
export function countAtLeast(samples: Int16Array, limit: number): number {
  let count = 0;
  for (const sample of samples) if (Math.abs(sample) >= limit) count++;
  return count;
}
