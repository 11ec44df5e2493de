import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { PostgresKvStore } from "../../federation/postgres-kv-store.ts";
import { describeKvStoreContract } from "../kv-store-contract.ts";
import { createMigratedDatabase, type TempDatabase } from "./temp-database.ts";

// The PostgreSQL KvStore against the contract every KvStore meets
// (test/kv-store-contract.ts, which the SQLite store passes too).
let temp: TempDatabase;
let admin: pg.Pool;

beforeAll(async () => {
  ({ temp, admin } = await createMigratedDatabase());
});

afterAll(async () => {
  await admin?.end();
  await temp?.drop();
});

describeKvStoreContract<pg.Pool>("PostgresKvStore", {
  async connect() {
    return new pg.Pool({ connectionString: temp.url, max: 4 });
  },
  store: (pool, options) => new PostgresKvStore(pool, options),
  async rows(pool) {
    const { rows } = await pool.query<{ key: string; expires_at: string | null }>("SELECT key, expires_at FROM fedify_kv ORDER BY key COLLATE \"C\"");
    return rows.map((r) => ({ key: r.key, expires_at: r.expires_at === null ? null : Number(r.expires_at) }));
  },
  async disconnect(pool) {
    await pool.end();
  },
  async reset() {
    await admin.query("DELETE FROM fedify_kv");
  },
});
