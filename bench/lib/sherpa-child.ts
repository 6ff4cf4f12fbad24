/**
 * sherpa-onnx-node in a process of its own, for bench/run.ts: its addon ships its own
 * onnxruntime, which must not share a process with onnxruntime-node, and its generate() is
 * synchronous. Started as
 *
 *   node --import tsx bench/lib/sherpa-child.ts MODEL.onnx TOKENS.txt ESPEAK_DATA_DIR THREADS
 *
 * it loads the voice, prints one JSON line {"ready": ...}, then answers one JSON line per
 * request line on stdin:
 *
 *   {"op": "synth", "text": T}  generate(T) and the 16-bit WAV bytes made from its samples,
 *                               timed here around both; {"ms", "samples", "wavBytes"}
 *   {"op": "rss"}               this process's resident memory; {"rss_bytes", "hwm_bytes"}
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

interface GeneratedAudio {
  samples: Float32Array;
  sampleRate: number;
}
interface SherpaModule {
  version: string;
  OfflineTts: new (
    config: unknown,
  ) => { sampleRate: number; numSpeakers: number; generate(request: { text: string; sid: number; speed: number }): GeneratedAudio };
}

const [model, tokens, dataDir, threads] = process.argv.slice(2);
if (!model || !tokens || !dataDir || !threads) throw new Error("usage: sherpa-child.ts MODEL TOKENS DATA_DIR THREADS");
const sherpa = createRequire(import.meta.url)("sherpa-onnx-node") as SherpaModule;
const voiceConfig = JSON.parse(readFileSync(`${model}.json`, "utf8").toString()) as {
  inference: { noise_scale: number; length_scale: number; noise_w: number };
};
const config = {
  model: {
    vits: {
      model,
      tokens,
      dataDir,
      // The voice's own inference settings, as Piper and the service use them.
      noiseScale: voiceConfig.inference.noise_scale,
      noiseScaleW: voiceConfig.inference.noise_w,
      lengthScale: voiceConfig.inference.length_scale,
    },
    numThreads: Number(threads),
    provider: "cpu",
    debug: false,
  },
  maxNumSentences: 1,
};
const tts = new sherpa.OfflineTts(config);

function statusBytes(field: string): number {
  const status = readFileSync("/proc/self/status", "utf8");
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
}

/** 16-bit PCM WAV, as every other subject returns. */
function wav(samples: Float32Array, rate: number): Buffer {
  const out = Buffer.alloc(44 + samples.length * 2);
  out.write("RIFF", 0, "ascii");
  out.writeUInt32LE(36 + samples.length * 2, 4);
  out.write("WAVEfmt ", 8, "ascii");
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(1, 22);
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write("data", 36, "ascii");
  out.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767), 44 + i * 2);
  return out;
}

console.log(
  JSON.stringify({
    ready: true,
    sherpa_onnx_node: sherpa.version,
    sample_rate: tts.sampleRate,
    num_speakers: tts.numSpeakers,
    num_threads: Number(threads),
    data_dir: dataDir,
  }),
);
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const request = JSON.parse(line) as { op: string; text?: string };
  let answer: Record<string, unknown>;
  try {
    if (request.op === "synth") {
      const started = performance.now();
      const audio = tts.generate({ text: request.text ?? "", sid: 0, speed: 1 });
      const bytes = wav(audio.samples, audio.sampleRate);
      answer = { ms: performance.now() - started, samples: audio.samples.length, wavBytes: bytes.length };
    } else if (request.op === "rss") {
      answer = { rss_bytes: statusBytes("VmRSS"), hwm_bytes: statusBytes("VmHWM") };
    } else {
      answer = { error: `unknown op ${JSON.stringify(request.op)}` };
    }
  } catch (error) {
    answer = { error: (error as Error).message };
  }
  console.log(JSON.stringify(answer));
}
