// Helpers for the hardening tests: texts of a chosen length, polling for a condition,
// the server's only slot held, and one client per protocol.

import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { AudioEncoding, TtsService } from "../../gen/aetheros/tts/v1/tts_pb.js";
import type { RunningServer } from "./running-server.js";

const SENTENCES = [
  "The morning train left the station a little after seven, carrying commuters toward the city.",
  "Rain had fallen through the night, and the fields beside the track shone under a pale sky.",
  "A conductor walked the length of each carriage, checking tickets and answering questions.",
  "Near the window a child counted the bridges, announcing every new one with great delight.",
  "By the time the towers came into view, most of the passengers had folded their newspapers.",
];

let made = 0;

/** English prose of about `length` characters, different from every other text made here. */
export function proseOfLength(length: number): string {
  let text = `Passage ${++made} of ${process.pid}.`;
  for (let i = 0; text.length < length; i++) text += ` ${SENTENCES[i % SENTENCES.length]}`;
  return text.slice(0, length).replace(/\s+\S*$/, ".");
}

/** Polls until `check` returns true; fails naming `what` after `limitMs`. */
export async function waitUntil(check: () => boolean, what: string, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits until no synthesis runs or waits on the server. */
export function untilIdle(running: RunningServer): Promise<void> {
  const { admission } = running.app;
  return waitUntil(() => admission.stats().running === 0 && admission.stats().queued === 0, "the server is idle");
}

/**
 * Runs `body` while a synthesis that takes minutes holds the server's only slot (a server
 * started with MAX_CONCURRENT_REQUESTS 1, MAX_QUEUE_SIZE 0 and MAX_TEXT_LENGTH 20000, so
 * every other call is refused), then stops that synthesis and waits until the server is idle.
 * `headers` go with the synthesis (the API key of a server that wants one).
 */
export async function whileSlotHeld<T>(running: RunningServer, headers: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const busy = new AbortController();
  const occupying = ttsOver(running, "gRPC")
    .synthesize({ text: proseOfLength(20_000), config: { encoding: AudioEncoding.PCM } }, { signal: busy.signal, headers })
    .catch(() => undefined);
  try {
    await waitUntil(() => running.app.admission.stats().running === 1, "a synthesis holds the slot");
    return await body();
  } finally {
    busy.abort();
    await occupying;
    await untilIdle(running);
  }
}

export type ProtocolName = "gRPC" | "gRPC-Web" | "Connect";

export const PROTOCOLS: readonly ProtocolName[] = ["gRPC", "gRPC-Web", "Connect"];

export function transportFor(
  baseUrl: string,
  protocol: ProtocolName,
  { nodeOptions = {}, interceptors = [] }: { nodeOptions?: object; interceptors?: Interceptor[] } = {},
): Transport {
  switch (protocol) {
    case "gRPC":
      return createGrpcTransport({ baseUrl, nodeOptions, interceptors });
    case "gRPC-Web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1", nodeOptions, interceptors });
    case "Connect":
      return createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions, interceptors });
  }
}

export function ttsOver(running: RunningServer, protocol: ProtocolName): Client<typeof TtsService> {
  return createClient(TtsService, transportFor(running.baseUrl, protocol));
}

/** Resolves with whether the promise settled (either way) within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return settled;
}
