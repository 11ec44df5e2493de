import { defineConfig } from "drizzle-kit";

// Only used by `npm run db:generate:postgres` to write the PostgreSQL
// migrations from db/postgres/schema.ts (kept in step with db/schema.ts by
// test/schema-drift.test.ts); db/postgres/migrate.ts applies them.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/postgres/schema.ts",
  out: "./db/postgres/migrations",
});
