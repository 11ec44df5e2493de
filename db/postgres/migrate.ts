/**
 * Applies the drizzle-kit migrations of db/postgres/migrations to a
 * PostgreSQL database, the counterpart of db/migrate.ts. Everything happens
 * in one transaction on one connection, under a transaction-scoped advisory
 * lock: several processes starting at once take turns (the first migrates,
 * the others then find nothing to do), a failure leaves the database as it
 * was, and running it again applies nothing. Applied migrations are recorded
 * in drizzle.__drizzle_migrations, as drizzle's own migrator does, and a
 * database migrated by a newer Fedalign is refused before anything changes.
 */
import { readMigrationFiles, type MigrationMeta } from "drizzle-orm/migrator";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { FedalignError } from "../../src/errors.ts";

export const POSTGRES_MIGRATIONS_FOLDER = fileURLToPath(new URL("./migrations", import.meta.url));

/** pg_advisory_xact_lock key of the migrator ("fedalign" in ASCII, 64 bits). */
export const MIGRATION_LOCK_KEY = "7378413934109878126";

const MIGRATIONS_TABLE = `"drizzle"."__drizzle_migrations"`;

/** Something that can lend one connection: a pg.Pool, or a client used as is. */
export type PgConnectable = pg.Pool | pg.ClientBase;

function readMigrations(): MigrationMeta[] {
  return readMigrationFiles({ migrationsFolder: POSTGRES_MIGRATIONS_FOLDER });
}

/** The newest migration this build knows (drizzle's folder millis). */
export function latestKnownPostgresMigration(): number {
  return Math.max(...readMigrations().map((m) => m.folderMillis));
}

/** A connection string without its password, for messages. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(an unparseable connection string)";
  }
}

export async function withConnection<T>(target: PgConnectable, action: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  if (!("totalCount" in target)) return action(target);
  const client = await target.connect();
  try {
    return await action(client);
  } finally {
    client.release();
  }
}

export interface PostgresMigrationResult {
  /** Tags of the migrations applied now (empty when the database was current). */
  applied: string[];
}

/**
 * Brings the database's schema up to date. `label` names the database in
 * errors (use describeDatabaseUrl: never a password).
 */
export async function runPostgresMigrations(target: PgConnectable, label: string): Promise<PostgresMigrationResult> {
  const migrations = readMigrations();
  const tags = migrationTags();
  return withConnection(target, async (client) => {
    await client.query("BEGIN");
    try {
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS "drizzle"`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`);
      const { rows } = await client.query<{ latest: string | null }>(`SELECT max(created_at) AS latest FROM ${MIGRATIONS_TABLE}`);
      const latest = rows[0]?.latest == null ? null : Number(rows[0].latest);
      const known = Math.max(...migrations.map((m) => m.folderMillis));
      if (latest !== null && latest > known) {
        throw new FedalignError(`The database ${label} was migrated by a newer version of Fedalign; upgrade Fedalign to use it (nothing was changed).`);
      }
      const applied: string[] = [];
      for (const migration of migrations) {
        if (latest !== null && migration.folderMillis <= latest) continue;
        for (const statement of migration.sql) {
          if (statement.trim()) await client.query(statement);
        }
        await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (hash, created_at) VALUES ($1, $2)`, [migration.hash, migration.folderMillis]);
        applied.push(tags.get(migration.folderMillis) ?? String(migration.folderMillis));
      }
      await client.query("COMMIT");
      return { applied };
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      if (error instanceof FedalignError) throw error;
      throw new FedalignError(
        `Migrating the PostgreSQL database ${label} failed (${(error as Error).message}); it was rolled back and left unchanged. Check the connection and the role's rights, or report this as a bug.`,
      );
    }
  });
}

/** True when every known migration has been applied. */
export async function isPostgresSchemaCurrent(target: PgConnectable): Promise<boolean> {
  return withConnection(target, async (client) => {
    const exists = await client.query(`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present`);
    if (!exists.rows[0]?.present) return false;
    const { rows } = await client.query<{ latest: string | null }>(`SELECT max(created_at) AS latest FROM ${MIGRATIONS_TABLE}`);
    return rows[0]?.latest != null && Number(rows[0].latest) === latestKnownPostgresMigration();
  });
}

function migrationTags(): Map<number, string> {
  const journal = readMigrationJournal();
  return new Map(journal.entries.map((entry) => [entry.when, entry.tag]));
}


function readMigrationJournal(): { entries: { when: number; tag: string }[] } {
  return JSON.parse(readFileSync(`${POSTGRES_MIGRATIONS_FOLDER}/meta/_journal.json`, "utf8")) as { entries: { when: number; tag: string }[] };
}
