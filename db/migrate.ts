/**
 * Applies the drizzle-kit migrations in db/migrations at start. All pending
 * migrations run in one transaction (drizzle's migrator), so a failure leaves
 * the database as it was. A database written by a newer Fedalign is refused
 * before anything is touched.
 */
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Db } from "./client.ts";
import { FedalignError } from "../src/errors.ts";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("./migrations", import.meta.url));

interface Journal {
  entries: { idx: number; when: number; tag: string }[];
}

function readJournal(): Journal {
  return JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, "utf8")) as Journal;
}

/** The newest migration this build knows, as drizzle records it (folder millis). */
export function latestKnownMigration(): number {
  return Math.max(...readJournal().entries.map((e) => e.when));
}

function latestAppliedMigration(db: Db): number | null {
  const table = db.$client.raw
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
    .get();
  if (table === undefined) return null;
  const row = db.$client.raw
    .prepare("SELECT MAX(CAST(created_at AS INTEGER)) AS latest FROM __drizzle_migrations")
    .get() as { latest: number | null };
  return row.latest;
}

export function assertSchemaNotNewer(db: Db, file: string): void {
  const applied = latestAppliedMigration(db);
  if (applied !== null && applied > latestKnownMigration()) {
    throw new FedalignError(
      `The database ${file} was written by a newer version of Fedalign; upgrade Fedalign to use it (nothing was changed).`,
    );
  }
}

export function runMigrations(db: Db, file: string): void {
  assertSchemaNotNewer(db, file);
  try {
    // At open, before anything else uses the connection: drizzle's synchronous
    // migrator on the raw connection, all pending migrations in one transaction.
    migrate(drizzle(db.$client.raw), { migrationsFolder: MIGRATIONS_FOLDER });
  } catch (error) {
    // Several processes started at once on a new database (a web process and
    // its workers): one applies the migrations, the others' attempts roll back.
    if (isSchemaCurrent(db)) return;
    const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    throw new FedalignError(
      `Migrating the database ${file} failed (${reason}); it was rolled back and left unchanged. Restore a backup or report this as a bug.`,
    );
  }
}

/** True when every known migration has been applied (used by admin commands). */
export function isSchemaCurrent(db: Db): boolean {
  return latestAppliedMigration(db) === latestKnownMigration();
}
