import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { holdPostgresEnqueues, PostgresMessageQueue, QUEUE_CHANNEL } from "../../federation/postgres-message-queue.ts";
import { describeQueueContract, sleep, waitUntil, type QueueRow } from "../queue-contract.ts";
import { createMigratedDatabase, type TempDatabase } from "./temp-database.ts";

// The PostgreSQL queue against the contract every queue meets
// (test/queue-contract.ts, which the SQLite queue passes too). Each pool
// stands in for a worker process: its own connections, its own listening one.
let temp: TempDatabase;
let admin: pg.Pool;

beforeAll(async () => {
  ({ temp, admin } = await createMigratedDatabase());
});

afterAll(async () => {
  await admin?.end();
  await temp?.drop();
});

describeQueueContract<pg.Pool>("PostgresMessageQueue", {
  async connect() {
    return new pg.Pool({ connectionString: temp.url, max: 4 });
  },
  queue: (pool, options) => new PostgresMessageQueue(pool, options),
  async rows(pool) {
    const { rows } = await pool.query<Record<keyof QueueRow, string | number | null>>(
      "SELECT id, attempts, last_error, deliver_at, locked_until FROM fedify_queue ORDER BY id",
    );
    return rows.map((r) => ({
      id: Number(r.id),
      attempts: Number(r.attempts),
      last_error: r.last_error as string | null,
      deliver_at: Number(r.deliver_at),
      locked_until: r.locked_until === null ? null : Number(r.locked_until),
    }));
  },
  async lease(pool, lockedUntil) {
    await pool.query("UPDATE fedify_queue SET locked_until = $1", [lockedUntil]);
  },
  async disconnect(pool) {
    await pool.end();
  },
  async reset() {
    await admin.query("DELETE FROM fedify_queue");
  },
});

describe("PostgresMessageQueue on PostgreSQL", () => {
  let pool: pg.Pool;
  let queues: PostgresMessageQueue[];

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: temp.url, max: 4 });
    await pool.query("CREATE TABLE IF NOT EXISTS held_effects (id int PRIMARY KEY)");
  });

  beforeEach(() => {
    queues = [];
  });

  afterEach(async () => {
    await Promise.all(queues.map((mq) => mq.close()));
    await admin.query("DELETE FROM fedify_queue");
  });

  afterAll(async () => {
    await pool?.end();
  });

  function queue(options: ConstructorParameters<typeof PostgresMessageQueue>[1] = {}): PostgresMessageQueue {
    const mq = new PostgresMessageQueue(pool, options);
    queues.push(mq);
    return mq;
  }

  it("writes held enqueues in one transaction with the caller's writes, or none of them", async () => {
    const mq = queue({ pollIntervalMs: 60_000 });
    const handled: unknown[] = [];
    void mq.listen((m) => void handled.push(m));
    await sleep(100);

    const result = await holdPostgresEnqueues(
      pool,
      async () => {
        await mq.enqueueMany(["a", "b"]);
        await mq.enqueue("c");
        // Held: nothing in the table, and no listener woken, until the transaction commits.
        expect((await pool.query("SELECT 1 FROM fedify_queue")).rowCount).toBe(0);
        return 7;
      },
      async (id, client) => {
        await client.query("INSERT INTO held_effects (id) VALUES ($1)", [id]);
      },
    );
    expect(result).toBe(7);
    await waitUntil(() => handled.length === 3, 1_000); // woken by the commit, not the 60 s poll
    expect(handled).toEqual(["a", "b", "c"]);
    expect((await pool.query("SELECT id FROM held_effects")).rows).toEqual([{ id: 7 }]);

    // The caller's write fails: the messages go too.
    await expect(
      holdPostgresEnqueues(
        pool,
        async () => {
          await mq.enqueue("never");
          return 7;
        },
        async (id, client) => {
          await client.query("INSERT INTO held_effects (id) VALUES ($1)", [id]); // duplicate key
        },
      ),
    ).rejects.toThrow(/duplicate key/);
    // So does a failing producer.
    await expect(
      holdPostgresEnqueues(
        pool,
        async () => {
          await mq.enqueue("never either");
          throw new Error("sendActivity failed");
        },
        async () => {},
      ),
    ).rejects.toThrow("sendActivity failed");
    await sleep(100);
    expect((await pool.query("SELECT 1 FROM fedify_queue")).rowCount).toBe(0);
    expect(handled).toEqual(["a", "b", "c"]);
  });

  it("gets its listening connection back after the server drops it, and is woken through it again", async () => {
    const mq = queue({ pollIntervalMs: 60_000 });
    const handled: unknown[] = [];
    void mq.listen((m) => void handled.push(m));
    const listeners = () =>
      admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = $1", [`LISTEN ${QUEUE_CHANNEL}`]);
    await waitUntil(async () => (await listeners()).rowCount === 1);
    const [{ pid }] = (await listeners()).rows as [{ pid: number }];
    await admin.query("SELECT pg_terminate_backend($1)", [pid]);
    await waitUntil(async () => (await listeners()).rows.some((r) => r.pid !== pid), 5_000);
    const started = Date.now();
    await queue().enqueue("after the reconnect");
    await waitUntil(() => handled.length === 1, 1_000);
    expect(Date.now() - started).toBeLessThan(1_000); // the poll would take 60 s
    expect(handled).toEqual(["after the reconnect"]);
  });
});
