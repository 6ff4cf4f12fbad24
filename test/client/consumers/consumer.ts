// Type-checked by test/client/node-package.test.ts in a project that installed the packed
// @aetheros/tts-client, under strict settings and each moduleResolution a consumer may use.
import {
  AudioEncoding,
  Code,
  ConnectError,
  createTtsClient,
  type LiveEvent,
  type LiveSession,
  type SynthesizeRequestInit,
  type TtsClient,
} from "@aetheros/tts-client";
import { createTtsWebClient, type TtsWebClient, type WebSocketConstructor } from "@aetheros/tts-client/web";

const tts: TtsClient = createTtsClient({
  baseUrl: "https://tts:8002",
  apiKey: "key",
  defaultTimeoutMs: 10_000,
  retry: { maxAttempts: 2, maxDelayMs: 1000 },
  tls: { ca: "-----BEGIN CERTIFICATE-----", servername: "tts" },
});
const request: SynthesizeRequestInit = { text: "Hello.", config: { encoding: AudioEncoding.OGG_OPUS, speed: 1.2 } };

export async function speak(): Promise<number> {
  try {
    const audio: Uint8Array = await tts.synthesizeToBytes(request, { timeoutMs: 5000 });
    for await (const chunk of tts.audioStream({ text: "Streamed." })) audio.set(chunk.subarray(0, 0));
    tts.audioReadable({ text: "Piped." }).pipe(process.stdout);
    return audio.length + (await tts.synthesize(request)).durationSeconds;
  } catch (error) {
    if (ConnectError.from(error).code === Code.ResourceExhausted) return 0;
    throw error;
  }
}

export const web: TtsWebClient = createTtsWebClient({ baseUrl: "https://tts.example", protocol: "grpc-web", retry: false });

/** Both clients' live sessions are one type; events narrow on `type`. */
export async function speakLive(webSocket: WebSocketConstructor): Promise<number> {
  const sessions: LiveSession[] = [
    tts.liveSession({ config: { encoding: AudioEncoding.PCM, enableWordTimestamps: true }, maxBufferDelayMs: 200 }),
    createTtsWebClient({ baseUrl: "https://tts.example", webSocket }).liveSession({ signal: AbortSignal.timeout(60_000) }),
  ];
  let samples = 0;
  for (const session of sessions) {
    session.send("Hello", { contextId: "turn-1" });
    session.flush();
    session.cancel("turn-1");
    session.end();
    session.close();
    for await (const event of session as AsyncIterable<LiveEvent>) {
      if (event.type === "audio") samples = Math.max(samples, event.sampleOffset + event.audio.length / 2);
      if (event.type === "words" && event.words[0]?.startSeconds === 0) samples++;
    }
  }
  return samples;
}
