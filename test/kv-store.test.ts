import { rawSql } from "./harness.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { closeDatabase, openDatabase, type Db } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { SqliteKvStore } from "../federation/kv-store.ts";
import { describeKvStoreContract } from "./kv-store-contract.ts";

// The SQLite KvStore against the contract every KvStore meets
// (test/kv-store-contract.ts; the PostgreSQL store runs the same tests in
// test/postgres/kv-store.test.ts).
let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedalign-kv-"));
  file = join(dir, "test.sqlite");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describeKvStoreContract<Db>("SqliteKvStore", {
  async connect() {
    const db = openDatabase(file);
    runMigrations(db, file);
    return db;
  },
  store: (db, options) => new SqliteKvStore(db, options),
  async rows(db) {
    return rawSql(db, (raw) => raw.prepare("SELECT key, expires_at FROM fedify_kv ORDER BY key").all() as { key: string; expires_at: number | null }[]);
  },
  async disconnect(db) {
    closeDatabase(db);
  },
  async reset() {
    const db = openDatabase(file);
    try {
      runMigrations(db, file);
      db.$client.raw.prepare("DELETE FROM fedify_kv").run();
    } finally {
      closeDatabase(db);
    }
  },
});
