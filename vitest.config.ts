import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    setupFiles: ["test/helpers/cleanup.ts"],
    // Bounds for a test that hangs, not a pace: a loaded 2-core machine runs a test of many CLI
    // starts (test/platformio/noop-inputs: ~40 hook runs) for well over two minutes.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Real brokers, compilers and pty pairs: two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
