/**
 * Live speech (issue 14): the time from a sentence's last token to its first audio over
 * StreamingSynthesize, against the time to first audio of that sentence alone over
 * SynthesizeStream. A reply is sent token by token, TOKEN_GAP_MS apart, as a language model
 * writes it: a sentence inside the reply is followed TOKEN_GAP_MS later by the next one's
 * first token (which tells the server the sentence has ended), the reply's last sentence by
 * end_utterance at once (the model's stream ends with its last token). Shared by
 * bench/run.ts and bench/live-ttfa.bench.ts.
 */
import type { Client } from "@connectrpc/connect";
import { RequestQueue } from "@aetheros/tts-client";
import { AudioEncoding, type TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import { configRequest, llmTokens, sleep, TOKEN_GAP_MS, textRequest } from "./live-input.js";
import { median } from "./stats.js";

/** Replies of an assistant: three sentences each, every sentence said once per run and subject. */
export const LIVE_REPLIES: readonly (readonly string[])[] = [
  [
    "Sure, I can help you plan the trip to the coast next weekend.",
    "The train leaves the central station every hour, and the ride takes about ninety minutes.",
    "Would you like me to book two seats for Saturday morning?",
  ],
  [
    "Your package left the warehouse this morning and is now on its way.",
    "The driver expects to reach your street between two and four in the afternoon.",
    "I will send you a message as soon as it has been delivered.",
  ],
  [
    "The recipe needs three eggs, a cup of flour and a little warm milk.",
    "Mix everything slowly until the batter is smooth, then let it rest for ten minutes.",
    "Bake it in a hot oven until the top turns golden brown.",
  ],
];

/** "next-sentence": followed by the next sentence's first token; "end-utterance": the reply's last, followed by end_utterance. */
export type LiveCase = "next-sentence" | "end-utterance";
export const LIVE_CASES: readonly LiveCase[] = ["next-sentence", "end-utterance"];

export interface LiveTtfaSample {
  iteration: number;
  reply: number;
  sentence: number;
  case: LiveCase;
  /** StreamingSynthesize: from sending the sentence's last token to its first AudioChunk. */
  liveMs?: number;
  /**
   * StreamingSynthesize: how long after this sentence's last token the previous sentence's
   * first audio came (0 when before). An utterance's sentences are synthesized one after
   * another, so this sentence's synthesis could not start before about then.
   */
  previousAudioAfterMs?: number;
  /** SynthesizeStream of the sentence alone: from the call to its first AudioChunk. */
  unaryMs?: number;
}

export interface LiveTtfaResults {
  tokenGapMs: number;
  /** The service the calls went to (its name in the run's settings). */
  service: string;
  replies: readonly (readonly string[])[];
  samples: LiveTtfaSample[];
}

export const caseOf = (reply: readonly string[], sentence: number): LiveCase =>
  sentence === reply.length - 1 ? "end-utterance" : "next-sentence";

/** Speaks one reply over StreamingSynthesize; for each sentence, last token to first audio, and to the previous sentence's. */
export async function timeLiveReply(
  client: Client<typeof TtsService>,
  reply: readonly string[],
): Promise<Array<{ liveMs: number; previousAudioAfterMs: number }>> {
  const requests = new RequestQueue<ReturnType<typeof configRequest>>();
  requests.push(configRequest());
  const lastTokenAt: number[] = [];
  const firstAudioAt: number[] = [];
  const sending = (async () => {
    for (const [index, sentence] of reply.entries()) {
      const tokens = llmTokens(index === 0 ? sentence : ` ${sentence}`);
      for (const [t, token] of tokens.entries()) {
        if (index > 0 || t > 0) await sleep(TOKEN_GAP_MS);
        requests.push(textRequest("reply", token));
        if (t === tokens.length - 1) lastTokenAt[index] = performance.now();
      }
    }
    requests.push(textRequest("reply", "", true));
  })();
  let sentences = 0;
  try {
    for await (const response of client.streamingSynthesize(requests, { timeoutMs: 120_000 })) {
      const event = response.event;
      if (event.case === "chunk" && firstAudioAt[event.value.sentenceIndex] === undefined) {
        firstAudioAt[event.value.sentenceIndex] = performance.now();
      }
      if (event.case === "utteranceEnd") {
        sentences = event.value.summary?.sentenceCount ?? 0;
        requests.end();
      }
    }
  } finally {
    requests.end();
    await sending;
  }
  // A sentence the server spoke as two (or joined with the next) would pair the wrong times.
  if (sentences !== reply.length) throw new Error(`the reply of ${reply.length} sentences was spoken as ${sentences}`);
  return reply.map((_, i) => ({
    liveMs: firstAudioAt[i]! - lastTokenAt[i]!,
    previousAudioAfterMs: i === 0 ? 0 : Math.max(0, firstAudioAt[i - 1]! - lastTokenAt[i]!),
  }));
}

/** SynthesizeStream of one sentence, cache off: the call to its first AudioChunk. */
export async function timeUnaryFirstAudio(client: Client<typeof TtsService>, text: string): Promise<number> {
  const started = performance.now();
  let firstMs = Number.NaN;
  for await (const message of client.synthesizeStream(
    { text, config: { encoding: AudioEncoding.PCM, useCache: false } },
    { timeoutMs: 120_000 },
  )) {
    if (message.event.case === "chunk" && Number.isNaN(firstMs)) firstMs = performance.now() - started;
  }
  return firstMs;
}

/**
 * Interleaved runs: each iteration speaks every reply live and every sentence alone, in
 * an order drawn from `random`, with `settle` before each call; the first is a warm-up.
 */
export async function measureLiveTtfa(
  client: Client<typeof TtsService>,
  iterations: number,
  order: <T>(items: readonly T[]) => T[],
  settle: () => Promise<unknown>,
): Promise<LiveTtfaSample[]> {
  type Job = { reply: number; sentence?: number };
  const jobs: Job[] = LIVE_REPLIES.flatMap((reply, r) => [{ reply: r }, ...reply.map((_, s) => ({ reply: r, sentence: s }))]);
  const samples: LiveTtfaSample[] = [];
  for (let iteration = -1; iteration < iterations; iteration++) {
    for (const job of order(jobs)) {
      await settle();
      const reply = LIVE_REPLIES[job.reply]!;
      if (job.sentence === undefined) {
        const times = await timeLiveReply(client, reply);
        if (iteration >= 0)
          for (const [s, time] of times.entries())
            samples.push({ iteration, reply: job.reply, sentence: s, case: caseOf(reply, s), ...time });
      } else {
        const unaryMs = await timeUnaryFirstAudio(client, reply[job.sentence]!);
        if (iteration >= 0)
          samples.push({ iteration, reply: job.reply, sentence: job.sentence, case: caseOf(reply, job.sentence), unaryMs });
      }
    }
  }
  return samples;
}

export interface LiveTtfaSummary {
  case: LiveCase;
  liveMs: number;
  unaryMs: number;
  /** Median live over median unary, both over the same sentences. */
  ratio: number;
  n: number;
  /** Sentences whose previous sentence's audio came after their last token, and the median of those waits. */
  behindPrevious: number;
  behindPreviousMs: number;
}

export function summarizeLiveTtfa(samples: readonly LiveTtfaSample[]): LiveTtfaSummary[] {
  return LIVE_CASES.map((c) => {
    const live = samples.filter((s) => s.case === c && s.liveMs !== undefined).map((s) => s.liveMs!);
    const unary = samples.filter((s) => s.case === c && s.unaryMs !== undefined).map((s) => s.unaryMs!);
    const liveMs = median(live);
    const unaryMs = median(unary);
    const behind = samples.filter((s) => s.case === c && (s.previousAudioAfterMs ?? 0) > 0).map((s) => s.previousAudioAfterMs!);
    return {
      case: c,
      liveMs,
      unaryMs,
      ratio: liveMs / unaryMs,
      n: live.length,
      behindPrevious: behind.length,
      behindPreviousMs: median(behind),
    };
  });
}

/** Issue 14: a sentence's first audio, live, within 1.1x its unary time to first audio. */
export const LIVE_TTFA_GOAL = 1.1;
