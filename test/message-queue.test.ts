import { rawSql } from "./harness.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { closeDatabase, openDatabase, type Db } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { SqliteMessageQueue } from "../federation/message-queue.ts";
import { describeQueueContract, type QueueRow } from "./queue-contract.ts";

// The SQLite queue against the contract every queue meets (test/queue-contract.ts;
// the PostgreSQL queue runs the same tests in test/postgres/message-queue.test.ts).
// Each connection to the one file stands in for a worker process.
let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedalign-mq-"));
  file = join(dir, "test.sqlite");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describeQueueContract<Db>("SqliteMessageQueue", {
  async connect() {
    const db = openDatabase(file);
    runMigrations(db, file);
    return db;
  },
  queue: (db, options) => new SqliteMessageQueue(db, options),
  async rows(db) {
    return rawSql(db, (raw) => raw.prepare("SELECT id, attempts, last_error, deliver_at, locked_until FROM fedify_queue ORDER BY id").all() as QueueRow[]);
  },
  async lease(db, lockedUntil) {
    await rawSql(db, (raw) => raw.prepare("UPDATE fedify_queue SET locked_until = ?").run(lockedUntil));
  },
  async disconnect(db) {
    closeDatabase(db);
  },
  async reset() {
    const db = openDatabase(file);
    try {
      runMigrations(db, file);
      db.$client.raw.prepare("DELETE FROM fedify_queue").run();
    } finally {
      closeDatabase(db);
    }
  },
});
