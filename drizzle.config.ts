import { defineConfig } from "drizzle-kit";

// Only used by `npm run db:generate` to write migrations; the server applies
// them itself at start (db/migrate.ts).
export default defineConfig({
  dialect: "sqlite",
  schema: "./db/schema.ts",
  out: "./db/migrations",
});
