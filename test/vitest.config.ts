import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Worker processes get the same JSON flag as every other entry point (README).
    pool: "forks",
    execArgv: Number(process.versions.node.split(".")[0]) < 22 ? ["--harmony-json-parse-with-source"] : [],
    setupFiles: ["./test/setup.ts"],
    globalSetup: ["./test/build-once.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Multi-instance tests spawn servers; two files at a time fits two cores.
    maxWorkers: 2,
  },
});
