/*
 * The concurrent live streams section of bench/run.ts on its own: 10, 50 and 200
 * StreamingSynthesize streams, each a short sentence every few seconds, on a child-process
 * service with the shipped limits (cache off): every stream the same client (127.0.0.1), then
 * on a second service with API_KEYS, every stream a client of its own. Not a test; run with
 *   node --import tsx bench/live-streams.bench.ts       (BENCH_STREAM_LEVELS, default 10,50,200)
 * It prints the figures; the full `npm run bench` puts them in BENCHMARKS.md.
 */
import { fileURLToPath } from "node:url";
import { measureLiveStreams, STREAM_LEVELS, streamKeys } from "./lib/live-streams.js";
import { startService } from "./lib/service.js";
import { seededRandom } from "./lib/stats.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const levels = process.env.BENCH_STREAM_LEVELS?.split(",").map(Number) ?? STREAM_LEVELS;
const random = seededRandom(Number(process.env.BENCH_SEED ?? 8));

const keys = streamKeys(Math.max(...levels));
for (const keyed of [false, true]) {
  const service = await startService(keyed ? "live streams, a key per stream" : "live streams", ROOT, {
    intraOpThreads: 1,
    workers: 2,
    cacheEnabled: false,
    env: keyed ? { API_KEYS: keys.join(",") } : {},
  });
  try {
    await measureLiveStreams(service.baseUrl, service.pid, keyed ? keys : undefined, levels, random, console.log);
  } finally {
    await service.stop();
  }
}
