import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // PostgreSQL tests need a server; `npm run test:postgres` runs them (test/postgres.config.ts).
    exclude: ["test/postgres/**", "**/node_modules/**"],
    // Worker processes get the same JSON flag as every other entry point (README).
    pool: "forks",
    execArgv: Number(process.versions.node.split(".")[0]) < 22 ? ["--harmony-json-parse-with-source"] : [],
    // A worker runs its test files one after another in the same process,
    // importing Fedify, Hono, zod and our modules once instead of once per
    // file: on 21 in-process test files this took the CPU time from 42-47 s
    // to 27-33 s. Our modules keep per-instance state keyed by the database
    // (rate limiters, caches), and no test mocks modules or stubs globals, so
    // files do not see each other's state. A test file must close what it
    // opens (instances, servers, queues) in afterAll, since the process
    // lives on after it.
    isolate: false,
    setupFiles: ["./test/setup.ts"],
    globalSetup: ["./test/build-once.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Three files at a time on two cores: most test time is now spent waiting
    // on loopback HTTP and queues, not computing (with two workers the suite
    // used 107 % of the two cores; with three it took 211 s instead of 289 s).
    maxWorkers: 3,
  },
});
