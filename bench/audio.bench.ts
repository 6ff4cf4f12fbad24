/*
 * Encode time of 5 s of 22050 Hz mono audio for every encoding, whole file and streamed
 * in 1 s pieces, plus resampling and pitch shifting of the same audio. The first
 * (cold) call includes compiling the codec's WebAssembly or JIT-warming its asm.js.
 * Not a test; run with
 *   npx tsx bench/audio.bench.ts
 */
import { performance } from "node:perf_hooks";
import { createEncoder, encodingName, OUTPUT_ENCODINGS } from "../src/audio/index.js";
import { shiftPitch } from "../src/audio/pitch.js";
import { createResampler } from "../src/audio/resample.js";

const RATE = 22050;
const SECONDS = 5;
const RUNS = 20;

/** A voiced-like signal: a 120 to 180 Hz glide with harmonics and a slow syllable envelope. */
function speechLike(): Int16Array {
  const out = new Int16Array(RATE * SECONDS);
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / RATE;
    phase += (2 * Math.PI * (150 + 30 * Math.sin(2 * Math.PI * 0.7 * t))) / RATE;
    let value = 0;
    for (let h = 1; h <= 12; h++) value += Math.sin(h * phase) / h;
    out[i] = Math.round(7000 * value * (0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t)));
  }
  return out;
}

async function time(run: () => Promise<unknown> | unknown): Promise<{ cold: number; median: number; p95: number }> {
  let start = performance.now();
  await run();
  const cold = performance.now() - start;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { cold, median: times[Math.floor(RUNS / 2)]!, p95: times[Math.ceil(RUNS * 0.95) - 1]! };
}

const samples = speechLike();
const rows: Array<{ task: string; bytes?: number; cold: number; median: number; p95: number }> = [];

for (const encoding of OUTPUT_ENCODINGS) {
  for (const streaming of [false, true]) {
    let bytes = 0;
    const result = await time(async () => {
      const encoder = await createEncoder(encoding, RATE, { streaming });
      bytes = 0;
      const step = streaming ? RATE : samples.length;
      for (let at = 0; at < samples.length; at += step) bytes += encoder.write(samples.subarray(at, at + step)).length;
      bytes += encoder.end().length;
    });
    rows.push({ task: `encode ${encodingName(encoding)}${streaming ? " (stream, 1 s pieces)" : ""}`, bytes, ...result });
  }
}
for (const to of [8000, 48000]) {
  rows.push({ task: `resample 22050 → ${to}`, ...(await time(async () => (await createResampler(RATE, to)).process(samples))) });
}
for (const factor of [0.8, 1.25]) {
  rows.push({ task: `pitch × ${factor}`, ...(await time(() => shiftPitch(samples, RATE, factor))) });
}

console.log(`${SECONDS} s of ${RATE} Hz mono; median and p95 of ${RUNS} warm runs, node ${process.version}`);
console.log("task".padEnd(38) + "bytes".padStart(9) + "cold ms".padStart(10) + "median ms".padStart(11) + "p95 ms".padStart(9));
for (const row of rows) {
  console.log(
    row.task.padEnd(38) +
      (row.bytes === undefined ? "" : String(row.bytes)).padStart(9) +
      row.cold.toFixed(1).padStart(10) +
      row.median.toFixed(2).padStart(11) +
      row.p95.toFixed(2).padStart(9),
  );
}
