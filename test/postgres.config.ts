import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

// `npm run test:postgres`: the storage, queue and federation tests against
// PostgreSQL (test/postgres/). They need a server: FEDALIGN_TEST_POSTGRES, or
// the local one on 127.0.0.1:5432 with trust authentication (.ci/run starts
// Debian's when none answers). `npm test` never runs them.
export default defineConfig({
  test: {
    ...base.test,
    include: ["test/postgres/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
  },
});
