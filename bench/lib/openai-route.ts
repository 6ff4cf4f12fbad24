/**
 * The OpenAI-compatible route's streaming, timed from a client: POST /v1/audio/speech for a
 * reply of about 30 s, the time to its headers, to its first audio byte and to its last.
 * Shared by bench/run.ts (a goal row in BENCHMARKS.md) and bench/openai-route.bench.ts (this
 * section alone).
 */
import { median } from "./stats.js";
import { longText } from "./texts.js";

/** longText(680) is 672 characters, about 34 s of speech from the bench voice: a reply of over 30 s. */
export const OPENAI_ROUTE_CHARS = 680;
/** OpenAI's raw format (s16le mono, 24 kHz): its length gives the audio's seconds exactly. */
const FORMAT = "pcm";
const PCM_BYTES_PER_SECOND = 2 * 24000;

export interface OpenAiRouteSample {
  iteration: number;
  /** The response's status and headers. */
  headersMs: number;
  /** The first byte of audio. */
  firstByteMs: number;
  /** The last byte of audio. */
  totalMs: number;
  audioSeconds: number;
}

export interface OpenAiRouteResults {
  chars: number;
  format: string;
  /** The service the calls went to (its name in the run's settings). */
  service: string;
  samples: OpenAiRouteSample[];
}

export const openAiRouteText = (): string => longText(OPENAI_ROUTE_CHARS);

/** One uncached reply through the route (the service's cache must be off). */
export async function timeOpenAiRoute(baseUrl: string, text: string): Promise<Omit<OpenAiRouteSample, "iteration">> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/v1/audio/speech`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tts-1", voice: "alloy", input: text, response_format: FORMAT }),
  });
  const headersMs = performance.now() - started;
  if (response.status !== 200 || !response.body) throw new Error(`the OpenAI route answered ${response.status}: ${await response.text()}`);
  let firstByteMs = Number.NaN;
  let bytes = 0;
  for await (const chunk of response.body) {
    if (bytes === 0) firstByteMs = performance.now() - started;
    bytes += chunk.length;
  }
  return { headersMs, firstByteMs, totalMs: performance.now() - started, audioSeconds: bytes / PCM_BYTES_PER_SECOND };
}

export interface OpenAiRouteSummary {
  headersMs: number;
  firstByteMs: number;
  totalMs: number;
  audioSeconds: number;
  /** Median first byte over median total. */
  ratio: number;
}

export function summarizeOpenAiRoute(samples: readonly OpenAiRouteSample[]): OpenAiRouteSummary {
  const of = (pick: (s: OpenAiRouteSample) => number) => median(samples.map(pick));
  const firstByteMs = of((s) => s.firstByteMs);
  const totalMs = of((s) => s.totalMs);
  return { headersMs: of((s) => s.headersMs), firstByteMs, totalMs, audioSeconds: of((s) => s.audioSeconds), ratio: firstByteMs / totalMs };
}

/** The goal: the first audio byte of a ~30 s reply before 0.3x the whole reply's time. */
export const OPENAI_ROUTE_GOAL = 0.3;
