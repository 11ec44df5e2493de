/**
 * The PostgreSQL database handle (db/postgres/client.ts): transactions follow
 * the asynchronous flow, so code inside `db.transaction(async () => …)` that
 * keeps using `db` writes on the transaction's connection, other flows do
 * not see it before the commit, a throw rolls everything back, and a nested
 * transaction is a savepoint. Same guarantees as the SQLite handle's.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closePostgresDatabase, openPostgresDatabase, type PgDb } from "../../db/postgres/client.ts";
import { runPostgresMigrations } from "../../db/postgres/migrate.ts";
import { settings } from "../../db/postgres/schema.ts";
import { createTempDatabase, type TempDatabase } from "./temp-database.ts";

let temp: TempDatabase;
let db: PgDb;

/** What another flow (another request) sees: a query outside any transaction. */
async function seenOutside(key: string): Promise<unknown> {
  const [row] = await db.select().from(settings).where(eq(settings.key, key));
  return row?.value;
}

beforeAll(async () => {
  temp = await createTempDatabase();
  db = openPostgresDatabase(temp.url, { max: 4 });
  await runPostgresMigrations(db.$client.pool, "the test database");
});

afterAll(async () => {
  if (db) await closePostgresDatabase(db);
  await temp?.drop();
});

beforeEach(async () => {
  await db.delete(settings);
});

describe("transactions that follow the asynchronous flow", () => {
  it("commits what the flow wrote through db, unseen by other flows until then", async () => {
    let during: unknown = "not read";
    await db.transaction(async () => {
      await db.insert(settings).values({ key: "a", value: { n: 1 } });
      expect(db.$client.inTransaction).toBe(true);
      // Read inside the flow: its own write.
      expect(await seenOutsideOfThisFlow()).toBeUndefined();
      const [mine] = await db.select().from(settings).where(eq(settings.key, "a"));
      expect(mine?.value).toEqual({ n: 1 });
      during = "read";
    });
    expect(during).toBe("read");
    expect(db.$client.inTransaction).toBe(false);
    expect(await seenOutside("a")).toEqual({ n: 1 });
  });

  it("rolls back every write of the flow when the callback throws", async () => {
    await expect(
      db.transaction(async () => {
        await db.insert(settings).values({ key: "b", value: 1 });
        await db.insert(settings).values({ key: "c", value: 2 });
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    expect(await seenOutside("b")).toBeUndefined();
    expect(await seenOutside("c")).toBeUndefined();
  });

  it("makes a nested transaction a savepoint: its failure undoes only its own writes", async () => {
    await db.transaction(async () => {
      await db.insert(settings).values({ key: "outer", value: 1 });
      await expect(
        db.transaction(async () => {
          await db.insert(settings).values({ key: "inner", value: 2 });
          throw new Error("inner refused");
        }),
      ).rejects.toThrow("inner refused");
      await db.transaction(async () => {
        await db.insert(settings).values({ key: "kept", value: 3 });
      });
    });
    expect(await seenOutside("outer")).toBe(1);
    expect(await seenOutside("inner")).toBeUndefined();
    expect(await seenOutside("kept")).toBe(3);
  });

  it("keeps concurrent transactions apart: each commits or rolls back only its own writes", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        db.transaction(async () => {
          await db.insert(settings).values({ key: `k${i}`, value: i });
          await new Promise((resolve) => setTimeout(resolve, 5));
          await db.update(settings).set({ value: i * 10 }).where(eq(settings.key, `k${i}`));
          if (i % 2 === 1) throw new Error(`odd ${i}`);
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected", "fulfilled", "rejected", "fulfilled", "rejected"]);
    const rows = await db.select().from(settings).orderBy(settings.key);
    expect(rows.map((r) => [r.key, r.value])).toEqual([
      ["k0", 0],
      ["k2", 20],
      ["k4", 40],
      ["k6", 60],
    ]);
  });

  it("gives the connection back: more transactions than the pool has connections all finish", async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => db.transaction(async () => db.insert(settings).values({ key: `p${i}`, value: i }))));
    expect(await db.$count(settings)).toBe(20);
    expect(db.$client.pool.waitingCount).toBe(0);
  });

  it("does not let work the flow left running use the connection after the commit", async () => {
    let late: Promise<unknown> | undefined;
    await db.transaction(async () => {
      await db.insert(settings).values({ key: "t", value: 1 });
      late = new Promise((resolve) => setTimeout(resolve, 20)).then(() => db.insert(settings).values({ key: "late", value: 2 }));
    });
    await late;
    expect(await seenOutside("late")).toBe(2);
  });
});

/** A read from a flow that holds no transaction, started from inside one (it must not see uncommitted writes). */
function seenOutsideOfThisFlow(): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // A timer started here inherits the flow; an independent query needs the pool directly.
    db.$client.pool
      .query<{ value: unknown }>("SELECT value FROM settings WHERE key = 'a'")
      .then(({ rows }) => resolve(rows[0]?.value), reject);
  });
}
