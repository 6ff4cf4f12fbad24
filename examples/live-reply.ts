/**
 * How a voice agent speaks a language model's reply while it is still being written, and what
 * it keeps when the user interrupts: the reply goes to a live session token by token (with the
 * gaps a model leaves, and a longer pause mid-reply), the audio is written to reply.wav as it
 * arrives, and after `interruptAfter` seconds of audio the user "barges in": the utterance is
 * cancelled, playback stops there, and the words heard so far (from the word timestamps: those
 * that ended before playback stopped) are what the conversation history should keep.
 *
 *   node --import tsx examples/live-reply.ts [http://127.0.0.1:8002] [interruptAfter seconds, 0: never]
 */
import { open } from "node:fs/promises";
import { AudioEncoding, createTtsClient, type LiveWord } from "@aetheros/tts-client";

// A reply as a model streamed it, in its tokens (recorded, so the example needs no model).
const REPLY_TOKENS = [
  "Sure",
  ",",
  " I",
  " can",
  " help",
  " with",
  " that",
  ".",
  " The",
  " next",
  " train",
  " to",
  " Lyon",
  " leaves",
  " at",
  " seven",
  " fif",
  "teen",
  " from",
  " platform",
  " four",
  ".",
  // The model looks up the fare here (a tool call): a longer pause.
  " A",
  " second",
  "-class",
  " ticket",
  " costs",
  " forty",
  "-two",
  " euros",
  ",",
  " and",
  " the",
  " trip",
  " takes",
  " about",
  " two",
  " hours",
  ".",
  " Shall",
  " I",
  " book",
  " a",
  " seat",
  " for",
  " you",
  "?",
];
const REPLY = REPLY_TOKENS.join("");
const PAUSE_AFTER_TOKEN = 21;
const PAUSE_MS = 700;
const CONTEXT = "reply-1";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A 44-byte header of 16-bit mono PCM WAV holding `dataBytes`. */
function wavHeader(sampleRate: number, dataBytes: number): Buffer {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "latin1");
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write("WAVEfmt ", 8, "latin1");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "latin1");
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

async function speakReply(baseUrl: string, interruptAfter: number): Promise<void> {
  const tts = createTtsClient({ baseUrl });
  const live = tts.liveSession({ config: { encoding: AudioEncoding.PCM, enableWordTimestamps: true } });

  // The model's side: tokens as they come, until the reply is written or the user interrupts.
  let interrupted = false;
  const feeding = (async () => {
    for (const [i, token] of REPLY_TOKENS.entries()) {
      if (interrupted) return;
      live.send(token, { contextId: CONTEXT });
      await sleep(i === PAUSE_AFTER_TOKEN ? PAUSE_MS : 20 + ((i * 37) % 61));
    }
    if (!interrupted) live.close();
  })();

  // The speaker's side: audio to the file as it arrives. The file stands for the player: an
  // agent would take the interruption's moment from its player's clock.
  const wav = await open("reply.wav", "w");
  await wav.write(wavHeader(0, 0));
  let sampleRate = 0;
  let playedBytes = 0;
  const words: LiveWord[] = [];
  for await (const event of live) {
    if (event.type === "start") {
      sampleRate = event.sampleRate;
      console.log(`voice ${event.voice}, ${sampleRate} Hz`);
    } else if (event.type === "words") {
      words.push(...event.words);
    } else if (event.type === "audio" && !interrupted) {
      // Playback stops at the interruption, so the file holds exactly what was heard.
      const limit = interruptAfter > 0 ? Math.round(interruptAfter * sampleRate) * 2 : Number.POSITIVE_INFINITY;
      const audio = event.audio.subarray(0, Math.max(0, limit - playedBytes));
      await wav.write(audio);
      playedBytes += audio.length;
      if (playedBytes >= limit) {
        interrupted = true;
        console.log(`interrupted after ${(playedBytes / 2 / sampleRate).toFixed(2)} s of audio`);
        live.cancel(CONTEXT);
        live.close();
      }
    } else if (event.type === "utteranceEnd") {
      console.log(`utterance ${event.contextId} ended${event.cancelled ? " (cancelled)" : ""}: ${event.sentenceCount} sentences sent`);
    }
  }
  await feeding;
  await wav.write(wavHeader(sampleRate, playedBytes), 0, 44, 0);
  await wav.close();

  // What the user heard: the words that ended before playback stopped, up to the last one's end in the text.
  const playedSeconds = playedBytes / 2 / sampleRate;
  const heard = words.filter((word) => word.endSeconds <= playedSeconds);
  const last = heard.at(-1);
  const heardText = last === undefined ? "" : Array.from(REPLY).slice(0, last.textEnd).join("");
  console.log(`heard ${heard.length} words${last ? `, the last ending at ${last.endSeconds.toFixed(2)} s` : ""}`);
  console.log(`heard: ${heardText}`);
  console.log(`wrote reply.wav (${playedSeconds.toFixed(2)} s)`);
}

const [baseUrl = "http://127.0.0.1:8002", interruptAfter = "4"] = process.argv.slice(2);
await speakReply(baseUrl, Number(interruptAfter));
