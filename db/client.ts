/**
 * Opens the instance database: one SQLite file under the data directory,
 * with WAL (readers never block the writer), a busy timeout (admin CLI
 * commands may write while the server runs) and foreign keys enforced.
 */
import Database from "better-sqlite3";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { join } from "node:path";
import * as schema from "./schema.ts";
import { count, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export const DATABASE_FILE = "fedalign.sqlite";

export function databasePath(dataDir: string): string {
  return join(dataDir, DATABASE_FILE);
}

export interface OpenDatabaseOptions {
  /** Open without creating the file (for commands that need an existing instance). */
  mustExist?: boolean;
}

export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Db {
  const sqlite = new Database(file, { fileMustExist: options.mustExist ?? false });
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  // With WAL, NORMAL keeps the database consistent across a crash; only the
  // last transactions before a power loss can be lost.
  sqlite.pragma("synchronous = NORMAL");
  const db = drizzle(sqlite, { schema }) as Db;
  // Transactions take the write lock when they begin (IMMEDIATE). A deferred
  // one that reads and then writes cannot wait for another process's writer
  // (SQLite refuses the upgrade at once with "database is locked"), which
  // admin commands running beside the server would hit; an immediate one
  // waits under the busy timeout like any other write.
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn, config) => transaction(fn, { behavior: "immediate", ...config })) as Db["transaction"];
  return db;
}

export function closeDatabase(db: Db): void {
  if (db.$client.open) db.$client.close();
}

/** Synchronous row count (drizzle's $count is a promise-like on SQLite too). */
export function countRows(db: Pick<Db, "select">, table: SQLiteTable, where?: SQL): number {
  return db.select({ n: count() }).from(table).where(where).get()?.n ?? 0;
}
