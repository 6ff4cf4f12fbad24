import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The reliability suite has its own config and script (npm run test:reliability).
    exclude: [...configDefaults.exclude, "test/reliability/**"],
    globalSetup: ["test/global-setup.ts"],
    // Native addons (onnxruntime, espeak-ng) and worker pools behave best in child processes.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
