/**
 * How the intent and speech-to-text modules turn a reply into audio: stream it sentence by
 * sentence (play the first chunk while the rest is still being synthesized), with a deadline,
 * and retry once on the statuses that mean "try again".
 *
 *   node --import tsx examples/reply-to-speech.ts "It is sunny today. Highs of 24 degrees." [http://127.0.0.1:8002]
 */
import { writeFile } from "node:fs/promises";
import { AudioEncoding, createTtsClient } from "@aetheros/tts-client";

async function speakReply(text: string, baseUrl: string): Promise<Uint8Array[]> {
  // One retry of RESOURCE_EXHAUSTED or UNAVAILABLE, after the server's retry-after-ms hint
  // (waits over 1 s are not worth it here). The client retries a stream only before its first
  // chunk: audio already played cannot be taken back.
  const tts = createTtsClient({ baseUrl, retry: { maxAttempts: 2, maxDelayMs: 1000 } });
  const chunks: Uint8Array[] = [];
  // The whole reply must be spoken within 10 s, or the assistant moves on.
  const stream = tts.synthesizeStream({ text, config: { encoding: AudioEncoding.OGG_OPUS } }, { timeoutMs: 10_000 });
  for await (const message of stream) {
    if (message.event.case === "start") console.log(`voice ${message.event.value.voice}, ${message.event.value.sampleRate} Hz`);
    if (message.event.case === "chunk") {
      chunks.push(message.event.value.audio); // hand to the audio output here
      console.log(
        `chunk ${message.event.value.sequence} (sentence ${message.event.value.sentenceIndex}): ${message.event.value.audio.length} bytes`,
      );
    }
    if (message.event.case === "summary")
      console.log(`done: ${message.event.value.durationSeconds.toFixed(2)} s of audio, cached: ${message.event.value.cached}`);
  }
  return chunks;
}

const [text = "It is sunny today. Highs of twenty four degrees.", baseUrl = "http://127.0.0.1:8002"] = process.argv.slice(2);
const chunks = await speakReply(text, baseUrl);
await writeFile("reply.ogg", Buffer.concat(chunks));
console.log("wrote reply.ogg");
