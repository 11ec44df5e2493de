/**
 * Opens the instance database: one SQLite file under the data directory,
 * with WAL (readers never block the writer), a busy timeout (admin CLI
 * commands may write while the server runs) and foreign keys enforced.
 *
 * The domain code is asynchronous, so that the same code can later run on
 * PostgreSQL (issue 19). better-sqlite3 itself is synchronous and this
 * process shares one connection, so the connection is lent to one flow at a
 * time (`SqliteConnection.exclusive`): a transaction holds it from BEGIN to
 * COMMIT, and a query from any other request waits until then instead of
 * landing inside someone else's transaction. Drizzle reaches the connection
 * through its `sqlite-proxy` driver, whose callback is where that wait happens.
 */
import Database from "better-sqlite3";
import { drizzle, type SqliteRemoteDatabase } from "drizzle-orm/sqlite-proxy";
import { AsyncLocalStorage } from "node:async_hooks";
import { join } from "node:path";
import * as schema from "./schema.ts";
import { count, sql, type SQL } from "drizzle-orm";
import { SQLiteAsyncDialect, type SQLiteTable } from "drizzle-orm/sqlite-core";

export type Db = SqliteRemoteDatabase<typeof schema> & { $client: SqliteConnection };
/** A transaction's handle: the same query API as `Db`. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** What a function that only runs queries needs: the database or a transaction in progress. */
export type Queryable = Db | Tx;

export const DATABASE_FILE = "fedalign.sqlite";

export function databasePath(dataDir: string): string {
  return join(dataDir, DATABASE_FILE);
}

export interface OpenDatabaseOptions {
  /** Open without creating the file (for commands that need an existing instance). */
  mustExist?: boolean;
}

type Method = "run" | "all" | "values" | "get";
/** The flow that holds the connection; `active` turns false when it hands it back. */
interface Holder {
  active: boolean;
}

const STATEMENT_CACHE_SIZE = 500;
const dialect = new SQLiteAsyncDialect();

/**
 * One better-sqlite3 connection lent to one asynchronous flow at a time.
 * Re-entrant: code already holding it (inside a transaction) runs at once.
 */
export class SqliteConnection {
  readonly raw: Database.Database;
  readonly #holder = new AsyncLocalStorage<Holder>();
  #tail: Promise<void> = Promise.resolve();
  readonly #statements = new Map<string, Database.Statement>();

  constructor(raw: Database.Database) {
    this.raw = raw;
  }

  get open(): boolean {
    return this.raw.open;
  }

  /** True when the calling flow is inside a transaction it holds. */
  get inTransaction(): boolean {
    return this.raw.inTransaction && this.#holder.getStore()?.active === true;
  }

  /**
   * Runs `fn` with the connection to itself: other flows' queries and
   * transactions wait until it settles. `fn` must not wait on another flow
   * that needs this database (it would wait for ever); network calls do not
   * belong inside a transaction anyway.
   */
  async exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.#holder.getStore()?.active) return await fn();
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    const holder: Holder = { active: true };
    try {
      return await this.#holder.run(holder, fn);
    } finally {
      holder.active = false;
      release();
    }
  }

  /** drizzle's sqlite-proxy callback: rows as arrays, as drizzle maps them. */
  readonly execute = (sql: string, params: unknown[], method: Method): Promise<{ rows: any }> =>
    this.exclusive(() => this.#executeNow(sql, params, method));

  /** A raw statement with rows as objects, for SQL drizzle cannot build (full-text search). */
  async all<T>(query: SQL): Promise<T[]> {
    const { sql, params } = dialect.sqlToQuery(query);
    return this.exclusive(() => this.#statement(sql).raw(false).all(...params) as T[]);
  }

  #executeNow(sql: string, params: unknown[], method: Method): { rows: any } {
    const statement = this.#statement(sql);
    if (!statement.reader) {
      const { changes } = statement.run(...params);
      return { rows: [], changes } as { rows: any };
    }
    statement.raw(true);
    if (method === "get") return { rows: statement.get(...params) };
    if (method === "run") {
      statement.all(...params);
      return { rows: [] };
    }
    return { rows: statement.all(...params) };
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement) {
      // Most recently used last, so the oldest is dropped first.
      this.#statements.delete(sql);
    } else {
      statement = this.raw.prepare(sql);
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        this.#statements.delete(this.#statements.keys().next().value!);
      }
    }
    this.#statements.set(sql, statement);
    return statement;
  }
}

export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Db {
  const sqlite = new Database(file, { fileMustExist: options.mustExist ?? false });
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  // With WAL, NORMAL keeps the database consistent across a crash; only the
  // last transactions before a power loss can be lost.
  sqlite.pragma("synchronous = NORMAL");
  const connection = new SqliteConnection(sqlite);
  const db = drizzle(connection.execute, { schema }) as Db;
  db.$client = connection;
  // A transaction holds the connection from BEGIN to COMMIT, and takes the
  // write lock when it begins (IMMEDIATE). A deferred one that reads and then
  // writes cannot wait for another process's writer (SQLite refuses the
  // upgrade at once with "database is locked"), which admin commands running
  // beside the server would hit; an immediate one waits under the busy
  // timeout like any other write.
  const transaction = db.transaction.bind(db);
  let savepoints = 0;
  db.transaction = ((fn: (tx: Tx) => Promise<unknown>, config?: Parameters<Db["transaction"]>[1]) =>
    connection.exclusive(async () => {
      if (!connection.inTransaction) return await transaction(fn, { behavior: "immediate", ...config });
      // Nested in a transaction this flow holds (a function that opens its
      // own transaction, called from a use case's): a savepoint, as
      // better-sqlite3's nested transactions were. An error rolls back what
      // the inner one did and goes on to the outer one.
      const name = sql.raw(`fedalign_sp${++savepoints}`);
      await db.run(sql`SAVEPOINT ${name}`);
      try {
        const result = await fn(db as unknown as Tx);
        await db.run(sql`RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (error) {
        await db.run(sql`ROLLBACK TO SAVEPOINT ${name}`);
        await db.run(sql`RELEASE SAVEPOINT ${name}`);
        throw error;
      }
    })) as Db["transaction"];
  return db;
}

export function closeDatabase(db: Db): void {
  if (db.$client.open) db.$client.raw.close();
}

/** Rows of `table` (matching `where`). */
export async function countRows(db: Queryable, table: SQLiteTable, where?: SQL): Promise<number> {
  const [row] = await db.select({ n: count() }).from(table).where(where);
  return row?.n ?? 0;
}

/** The first row of a query, or undefined: `await first(db.select()…limit(1))`. Works on every dialect (PostgreSQL has no `.get()`). */
export async function first<T>(rows: PromiseLike<T[]>): Promise<T | undefined> {
  return (await rows)[0];
}
