/**
 * A throw-away PostgreSQL database for one test file: created under a random
 * name on the server named by FEDALIGN_TEST_POSTGRES (default: the local
 * server with trust authentication), dropped when the file is done, so test
 * files running side by side never see each other's rows.
 */
import pg from "pg";
import { randomBytes } from "node:crypto";
import { runPostgresMigrations } from "../../db/postgres/migrate.ts";

export const TEST_SERVER_URL = process.env.FEDALIGN_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TempDatabase {
  /** Connection string of the new, empty database. */
  readonly url: string;
  readonly name: string;
  /** Drops the database (after closing every pool you opened on it). */
  drop(): Promise<void>;
}

export async function createTempDatabase(prefix = "fedalign_test"): Promise<TempDatabase> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_SERVER_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: TEST_SERVER_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A throw-away database with Fedalign's PostgreSQL schema, and a small pool on it for the test's own queries. */
export async function createMigratedDatabase(): Promise<{ temp: TempDatabase; admin: pg.Pool }> {
  const temp = await createTempDatabase();
  const admin = new pg.Pool({ connectionString: temp.url, max: 2 });
  await runPostgresMigrations(admin, "the test database");
  return { temp, admin };
}
