/**
 * Lists the golden corpus lines where this service's espeak-ng (the 1.52.0.1 snapshot in
 * espeak-rs-sys, phoneme tables rebuilt by native/espeak/build.mjs) phonemizes differently
 * from the espeak-ng built into piper-tts 1.8.0 (upstream commit 212928b, 2025-03-22), with
 * both outputs, into
 * test/golden/espeak-differences.json. The parity test holds every other line to exact
 * equality and these lines to exactly the recorded difference.
 * Run: node --import tsx tools/golden/espeak-differences.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { phonemize } from "../../src/engine/phonemize.js";
import { phonemeIds } from "../../src/engine/phoneme-ids.js";
import { readVoiceConfig } from "../../src/engine/voice-config.js";

interface GoldenEntry {
  line: number;
  text: string;
  sentences: { phonemes: string[]; ids: number[] }[];
}

const voice = await readVoiceConfig("models/en_US-joe-medium.onnx.json");
const golden = JSON.parse(readFileSync("test/golden/phoneme-ids.json", "utf8")) as { entries: GoldenEntry[] };
const differences = [];
for (const entry of golden.entries) {
  const ours = phonemize(entry.text, voice);
  const piper = entry.sentences.map((s) => s.phonemes.join(""));
  const espeak = ours.map((s) => s.join(""));
  if (JSON.stringify(espeak) === JSON.stringify(piper)) continue;
  differences.push({
    line: entry.line,
    text: entry.text,
    // Emoji names are multi-word text entries of en_emoji, which this build speaks differently.
    kind: /\p{Extended_Pictographic}/u.test(entry.text) ? "emoji-names" : "other",
    piper,
    espeak,
    espeakIds: ours.map((s) => phonemeIds(s, voice).ids),
  });
}
writeFileSync("test/golden/espeak-differences.json", `${JSON.stringify({ lines: differences.length, differences }, null, 1)}\n`);
console.log(`${golden.entries.length} lines, ${differences.length} differ`);
