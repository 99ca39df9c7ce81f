import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    setupFiles: ["test/helpers/cleanup.ts"],
    // Firmware builds and real brokers on a loaded 2-core machine take most of a minute.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Real brokers, compilers and pty pairs: two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
