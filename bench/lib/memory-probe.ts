/*
 * Where a service's resident memory goes, one onnxruntime session at a time: run by bench/run.ts
 * as its own process (so nothing else is in its RSS) as
 *   node --import tsx bench/lib/memory-probe.ts MODEL.onnx OPTIONS_JSON IDS_FILE
 * where OPTIONS_JSON is the InferenceSession options and IDS_FILE holds a list of phoneme-id
 * pieces. Prints one JSON line: RSS after start-up,
 * after loading the session, and after running every piece (three times).
 */
import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-node";

const [model, optionsJson, idsFile] = process.argv.slice(2) as [string, string, string];
const options = JSON.parse(optionsJson) as ort.InferenceSession.SessionOptions;
const pieces = JSON.parse(readFileSync(idsFile, "utf8")) as number[][];
const rss = (): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1]) * 1024;

const readings: Array<{ label: string; rssBytes: number }> = [{ label: "node + tsx + onnxruntime-node loaded", rssBytes: rss() }];
const session = await ort.InferenceSession.create(model, options);
readings.push({ label: "session created", rssBytes: rss() });
for (let round = 0; round < 3; round++) {
  for (const ids of pieces) {
    await session.run({
      input: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, ids.length]),
      input_lengths: new ort.Tensor("int64", BigInt64Array.of(BigInt(ids.length)), [1]),
      scales: new ort.Tensor("float32", Float32Array.of(0.667, 1, 0.8), [3]),
    });
  }
  readings.push({
    label: `after run ${round + 1} of ${pieces.length} piece(s) of ${Math.max(...pieces.map((p) => p.length))} ids at most`,
    rssBytes: rss(),
  });
}
const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1]) * 1024;
console.log(JSON.stringify({ readings, hwmBytes: hwm }));
