import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino, type Logger } from "pino";
import type { AudioCacheOptions, CachedAudio } from "../../src/cache/index.js";

/** Audio whose bytes are `size` copies of `fill`, so different fills are different audio. */
export function sampleAudio(size: number, fill = 7): CachedAudio {
  return {
    bytes: new Uint8Array(size).fill(fill),
    encoding: "wav",
    sampleRate: 22050,
    durationSeconds: size / 44100,
    modelUsed: "piper:en_US-test-medium",
    sentenceByteEnds: [Math.floor(size / 2), size],
  };
}

export interface LogLine {
  level: number;
  msg: string;
  tier?: string;
}

/** A real pino logger whose JSON lines are kept in memory for assertions. */
export function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

export const WARN = 40;

export function cacheOptions(logger: Logger, overrides: Partial<AudioCacheOptions> = {}): AudioCacheOptions {
  return {
    enabled: true,
    sizeBytes: 10 * 1024 * 1024,
    maxEntries: 1000,
    ttlSeconds: 3600,
    redisSizeRefreshSeconds: 3600,
    logger,
    ...overrides,
  };
}

export async function withTempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "aetheros-cache-test-"));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
