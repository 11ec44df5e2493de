/**
 * The instance database on PostgreSQL (issue 19): a pg.Pool behind Drizzle's
 * node-postgres driver, with transactions that follow the asynchronous flow,
 * as the SQLite handle's do (db/client.ts).
 *
 * The domain code opens a transaction with `db.transaction(async () => …)`
 * and keeps using `db` inside it; functions it calls take `db` too. On
 * SQLite that works because one connection is lent to one flow at a time.
 * Here a transaction takes a connection of its own from the pool and
 * records it in an AsyncLocalStorage; every query made from that flow, on
 * `db` or on the transaction handle, goes to that connection, and queries of
 * other flows go to the pool. A transaction opened inside one the flow holds
 * is a savepoint, as on SQLite.
 *
 * Not wired into the server yet: the domain reads the SQLite schema's table
 * objects, and runs on PostgreSQL once it is given the PostgreSQL ones (the
 * next step of issue 19).
 */
import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { AsyncLocalStorage } from "node:async_hooks";
import pg from "pg";
import * as schema from "./schema.ts";

/** The connection a flow's transaction holds, and how deep its savepoints go. */
interface Held {
  client: pg.PoolClient;
  savepoints: number;
  /** False once the transaction ended: work the flow started and left running must not use the connection. */
  active: boolean;
}

export type PgTx = Parameters<Parameters<NodePgDatabase<typeof schema>["transaction"]>[0]>[0];
export type PgDb = NodePgDatabase<typeof schema> & { $client: PgConnection };

export interface PostgresOptions {
  /** Connections in the pool (default 10); each web process and worker has its own pool. */
  max?: number;
}

/** A pool whose `query` goes to the calling flow's transaction connection when it holds one. */
export class PgConnection {
  readonly pool: pg.Pool;
  readonly #held = new AsyncLocalStorage<Held>();

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** True when the calling flow is inside a transaction it opened. */
  get inTransaction(): boolean {
    return this.#held.getStore()?.active === true;
  }

  /** Drizzle's node-postgres session calls this for every statement. */
  query(...args: Parameters<pg.Pool["query"]>): ReturnType<pg.Pool["query"]> {
    const held = this.#held.getStore();
    const target = held?.active ? held.client : this.pool;
    return (target.query as (...a: unknown[]) => ReturnType<pg.Pool["query"]>)(...args);
  }

  /**
   * Runs `fn` in a transaction: on a connection of its own, or as a
   * savepoint when the flow is already in one. Commits when `fn` resolves,
   * rolls back when it throws.
   */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const outer = this.#held.getStore();
    if (outer?.active) return this.#savepoint(outer, fn);
    const client = await this.pool.connect();
    const held: Held = { client, savepoints: 0, active: true };
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await this.#held.run(held, fn);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: Error) => (broken = rollbackError));
      throw error;
    } finally {
      held.active = false;
      // A connection that could not roll back is not given to anyone else.
      client.release(broken);
    }
  }

  async #savepoint<T>(held: Held, fn: () => Promise<T>): Promise<T> {
    const name = `fedalign_sp${++held.savepoints}`;
    await held.client.query(`SAVEPOINT ${name}`);
    try {
      const result = await fn();
      await held.client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      await held.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
      await held.client.query(`RELEASE SAVEPOINT ${name}`);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Opens the database at `url` (a postgres:// connection string). Run runPostgresMigrations first. */
export function openPostgresDatabase(url: string, options: PostgresOptions = {}): PgDb {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle connection the server drops must not take the process down.
  pool.on("error", () => {});
  const connection = new PgConnection(pool);
  // Drizzle sees a client with `query`, not a Pool, so it never takes a
  // connection of its own; transactions are ours (above).
  const db = drizzle(connection as unknown as pg.Pool, { schema }) as unknown as PgDb;
  db.$client = connection;
  db.transaction = ((fn: (tx: PgTx) => Promise<unknown>) => connection.transaction(() => fn(db as unknown as PgTx))) as PgDb["transaction"];
  return db;
}

export async function closePostgresDatabase(db: PgDb): Promise<void> {
  await db.$client.close();
}
