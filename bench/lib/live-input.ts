/**
 * The client side of StreamingSynthesize for the live-speech sections: the requests fed to
 * @aetheros/tts-client's RequestQueue as text arrives, and text cut into the word-sized pieces
 * a language model sends.
 */
import { create } from "@bufbuild/protobuf";
import { AudioEncoding, type StreamingSynthesizeRequest, StreamingSynthesizeRequestSchema } from "../../gen/aetheros/tts/v1/tts_pb.js";

/** The gap between two tokens of a reply, and between a sentence's last token and the next one's first. */
export const TOKEN_GAP_MS = 30;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** "Hello there." → ["Hello", " there", "."]: words with their leading space, punctuation on its own. */
export function llmTokens(text: string): string[] {
  return text.match(/\s*[\p{L}\p{N}']+|\s*[^\s\p{L}\p{N}']+/gu) ?? [];
}

/** Raw PCM, cache off: every sentence is synthesized, and chunks carry audio only (no header). */
export const configRequest = (): StreamingSynthesizeRequest =>
  create(StreamingSynthesizeRequestSchema, {
    request: { case: "config", value: { config: { encoding: AudioEncoding.PCM, useCache: false } } },
  });

export const textRequest = (contextId: string, text: string, endUtterance = false): StreamingSynthesizeRequest =>
  create(StreamingSynthesizeRequestSchema, { request: { case: "input", value: { contextId, text, endUtterance } } });

export const cancelRequest = (contextId: string): StreamingSynthesizeRequest =>
  create(StreamingSynthesizeRequestSchema, { request: { case: "cancel", value: { contextId } } });
