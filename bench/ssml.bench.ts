/*
 * SSML parsing and lexicon application time: a typical 5,000-character document, 1M
 * characters of text and of markup (parse time must grow linearly), and the hostile
 * documents refused at a limit (10k-deep nesting, 100k elements), which must stop at the
 * limit rather than read the whole input. Not a test; run with
 *   npx tsx bench/ssml.bench.ts
 */
import { performance } from "node:perf_hooks";
import { plainTextSource, Pronunciations } from "../src/lexicons/index.js";
import { parseSsml } from "../src/ssml/index.js";

const RUNS = 10;

function median(run: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    try {
      run();
    } catch {
      // The hostile documents are refused; their time to refusal is what is measured.
    }
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

const sentence = 'The quick brown fox &amp; <emphasis level="strong">jumps</emphasis> over <break time="1ms"/>the lazy dog. ';
const documents: [string, string][] = [
  ["typical, 5k characters", `<speak>${sentence.repeat(48)}</speak>`],
  ["text, 100k characters", `<speak>${"abc &lt; 😀 ".repeat(9_000)}</speak>`],
  ["text, 1M characters", `<speak>${"abc &lt; 😀 ".repeat(90_000)}</speak>`],
  ["markup, 9,999 elements, 1M characters", `<speak>${`<s>${"word &amp; ".repeat(10)}</s>`.repeat(4_999)}${"a".repeat(400_000)}</speak>`],
  ["10k-deep nesting (refused at depth 32)", `<speak>${"<prosody>".repeat(10_000)}a`],
  ["100k elements (refused at 10,000)", `<speak>${"<s>a</s>".repeat(100_000)}</speak>`],
];

for (const [name, ssml] of documents) {
  console.log(`parse ${name} (${ssml.length} UTF-16 units): ${median(() => parseSsml(ssml)).toFixed(2)} ms`);
}

const words = Array.from({ length: 1000 }, (_, i) => ({ phrase: `word${i}`, alias: `w ${i}` }));
const pronunciations = Pronunciations.compile(words.slice(0, 100), [
  {
    name: "bench",
    version: "1",
    language: "en-US",
    lexemes: words.map(({ phrase }) => ({ graphemes: [phrase], pronunciation: { phonemes: "wɜːd" } })),
  },
]);
const text = Array.from({ length: 1000 }, (_, i) => `word${i % 2000} and some text`).join(" ");
console.log(
  `lexicons: 1,100 entries over ${text.length} characters: ${median(() => pronunciations.apply(text, plainTextSource(text))).toFixed(2)} ms`,
);
