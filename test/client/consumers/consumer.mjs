// A sibling service's use of @aetheros/tts-client, run with plain `node` (no TypeScript
// loader) by test/client/node-package.test.ts from a project that installed the packed
// tarball: `node consumer.mjs URL API_KEY` prints one JSON object.
import { AudioEncoding, Code, ConnectError, createTtsClient } from "@aetheros/tts-client";

const [url, apiKey] = process.argv.slice(2);
const tts = createTtsClient({ baseUrl: url, apiKey, defaultTimeoutMs: 120_000 });
const text = "The client runs under plain node. It streams as well.";
const config = { encoding: AudioEncoding.WAV };

const unary = await tts.synthesizeToFile("unary.wav", { text, config });
let chunks = 0;
const cases = [];
for await (const message of tts.synthesizeStream({ text, config })) cases.push(message.event.case);
for await (const _ of tts.audioStream({ text, config })) chunks++;
await tts.streamToFile("stream.wav", { text, config });
let invalid;
try {
  await tts.synthesize({ text, config: { speed: 9 } });
} catch (error) {
  invalid = { code: Code[ConnectError.from(error).code], message: ConnectError.from(error).rawMessage };
}
const live = tts.liveSession({ config: { encoding: AudioEncoding.PCM, enableWordTimestamps: true } });
for (const token of ["Live", " speech", " from", " plain", " node", "."]) live.send(token);
live.close();
const liveEvents = [];
for await (const event of live) liveEvents.push(event.type === "words" ? event.words.map((word) => word.word) : event.type);
console.log(
  JSON.stringify({
    live: liveEvents,
    unary: { duration: unary.durationSeconds, sampleRate: unary.sampleRate },
    cases,
    chunks,
    serving: await tts.isServing(),
    invalid,
  }),
);
