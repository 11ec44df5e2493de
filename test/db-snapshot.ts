/**
 * Every row an instance holds, read from its database file: tests take one
 * before a hostile input and one after, and require them to be equal.
 * Fedify's own key-value cache and queue tables are left out (caching a
 * fetched document is not a change of state), and so are sign-in sessions,
 * the time a local API token was last used and the scheduler's lease (a
 * worker renews it on every pass, whatever arrives).
 */
import Database from "better-sqlite3";
import { databasePath } from "../db/client.ts";
import { waitFor, type TestInstance } from "./harness.ts";

const IGNORED = new Set(["fedify_kv", "fedify_queue", "sessions", "job_leases", "__drizzle_migrations", "sqlite_sequence"]);
/** Columns that record the test's own local API use, not anything a remote server did. */
const IGNORED_COLUMNS: Record<string, string[]> = { api_tokens: ["last_used_at"] };

export type Snapshot = Record<string, unknown[]>;

function open(instance: Pick<TestInstance, "dataDir">) {
  return new Database(databasePath(instance.dataDir), { readonly: true, fileMustExist: true });
}

export function snapshot(instance: Pick<TestInstance, "dataDir">): Snapshot {
  const db = open(instance);
  try {
    return snapshotOf(db);
  } finally {
    db.close();
  }
}

/** The same, of a database handle the test already holds (an in-process instance's). */
export function snapshotOf(db: Database.Database): Snapshot {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
  const result: Snapshot = {};
  for (const { name } of tables) {
    // The search index (an FTS5 table and its shadow tables) is derived from the versions.
    if (IGNORED.has(name) || name.startsWith("clause_search")) continue;
    const rows = db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all() as Record<string, unknown>[];
    const drop = IGNORED_COLUMNS[name] ?? [];
    result[name] = rows.map((row) => Object.fromEntries(Object.entries(row).filter(([column]) => !drop.includes(column))));
  }
  return result;
}

/** Rows of one table (for assertions on what did change in a legitimate case). */
export function rows<T = Record<string, unknown>>(instance: Pick<TestInstance, "dataDir">, sql: string, ...params: unknown[]): T[] {
  const db = open(instance);
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Waits until the instance's inbox queue has nothing left to handle. */
export async function inboxDrained(instance: TestInstance): Promise<void> {
  await waitFor(
    () => rows<{ n: number }>(instance, "SELECT count(*) AS n FROM fedify_queue WHERE queue = 'inbox'")[0]!.n === 0,
    { what: "the inbox queue to drain" },
  );
}

/** Waits for a line in the instance's log: its stderr reaches the test a moment after its database changes. */
export async function logged(instance: TestInstance, pattern: RegExp): Promise<void> {
  await waitFor(() => pattern.test(instance.log()), { what: `a log line matching ${pattern}`, timeoutMs: 10_000 });
}
