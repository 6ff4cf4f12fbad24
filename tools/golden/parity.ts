/**
 * The full phoneme parity sweep (npm run test:parity): every item of test/golden/sweep/corpus.tsv
 * through Piper (piper-tts 1.8.0 in the private venv, tools/golden/sweep.py) and through this
 * engine, ids compared exactly. Prints the counts and every difference with both phoneme
 * strings, writes them to test/golden/sweep/differences.txt and the figure and date into
 * test/golden/README.md. Exits 1 if any item differs.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { phonemize } from "../../src/engine/phonemize.js";
import { phonemeIds } from "../../src/engine/phoneme-ids.js";
import { readVoiceConfig } from "../../src/engine/voice-config.js";
import { DEFAULT_CONFIG, ensureDefaultVoice } from "../../test/support/voice.js";

interface Output {
  sentences?: { phonemes: string; ids: number[] }[];
  error?: string;
}

const root = resolve(import.meta.dirname, "..", "..");
const sweepDir = join(root, "test", "golden", "sweep");
const corpusFile = join(sweepDir, "corpus.tsv");
const readme = join(root, "test", "golden", "README.md");
const ESCAPES: Record<string, string> = { "\\": "\\", t: "\t", n: "\n" };

/** corpus.tsv: "<category>\t<text>" per line, with \\ \t \n escaped in the text (sweep_corpus.py). */
function readCorpus(): { category: string; text: string }[] {
  const lines = readFileSync(corpusFile, "utf8").split("\n").slice(0, -1);
  return lines.map((line) => {
    const tab = line.indexOf("\t");
    return { category: line.slice(0, tab), text: line.slice(tab + 1).replace(/\\(.)/g, (_, c: string) => ESCAPES[c]!) };
  });
}

function piperOutputs(): Output[] {
  const python = execFileSync("bash", [join(root, "tools", "golden", "venv.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  const tmp = join(root, "tmp", "parity");
  mkdirSync(tmp, { recursive: true });
  const out = join(tmp, "piper.jsonl");
  execFileSync(python, [join(root, "tools", "golden", "sweep.py"), "--corpus", corpusFile, "--out", out], { stdio: "inherit" });
  return readFileSync(out, "utf8")
    .split("\n")
    .slice(0, -1)
    .map((line) => JSON.parse(line) as Output);
}

await ensureDefaultVoice();
const voice = await readVoiceConfig(DEFAULT_CONFIG);
function engineOutput(text: string): Output {
  try {
    return { sentences: phonemize(text, voice).map((s) => ({ phonemes: s.join(""), ids: s.length > 0 ? phonemeIds(s, voice).ids : [] })) };
  } catch (error) {
    return { error: String(error) };
  }
}

const corpus = readCorpus();
const piper = piperOutputs();
if (piper.length !== corpus.length) throw new Error(`Piper answered ${piper.length} of ${corpus.length} items`);

const idsOf = (o: Output) => JSON.stringify(o.error !== undefined ? "error" : o.sentences!.map((s) => s.ids));
const shown = (o: Output) => (o.error !== undefined ? `error ${o.error}` : o.sentences!.map((s) => s.phonemes).join(" | "));
const differences: string[] = [];
corpus.forEach(({ category, text }, i) => {
  const ours = engineOutput(text);
  if (idsOf(ours) === idsOf(piper[i]!)) return;
  differences.push(`#${i + 1} [${category}] ${JSON.stringify(text)}\n  piper:  ${shown(piper[i]!)}\n  engine: ${shown(ours)}`);
});

const identical = corpus.length - differences.length;
const date = new Date().toISOString().slice(0, 10);
const figure = `${identical} of ${corpus.length} items identical, ${differences.length} differing (${date})`;
writeFileSync(join(sweepDir, "differences.txt"), `${figure}\n\n${differences.join("\n\n")}${differences.length > 0 ? "\n" : ""}`);
const begin = "<!-- parity-sweep:begin -->";
const end = "<!-- parity-sweep:end -->";
const text = readFileSync(readme, "utf8");
const [before, rest] = text.split(begin);
if (rest === undefined || !rest.includes(end)) throw new Error(`${readme} has no ${begin} … ${end} section`);
writeFileSync(readme, `${before}${begin}\nLast full sweep: **${figure}**.\n${end}${rest.split(end)[1]}`);

for (const difference of differences) console.log(difference);
console.log(figure);
process.exitCode = differences.length > 0 ? 1 : 0;
