import { defineConfig } from "vitest/config";

// The reliability suite (npm run test:reliability): fuzzing, bad input, load, soak and
// faults against real servers. Files run one after another so that their load and their
// figures do not mix; the global setup writes docs/RELIABILITY.md from the figures.
export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts", "test/reliability/report-setup.ts"],
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 180_000,
  },
});
