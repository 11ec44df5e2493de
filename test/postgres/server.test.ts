import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { createTempDatabase, type TempDatabase } from "./temp-database.ts";

// The PostgreSQL suite's own precondition: a server answers and a test file
// gets a database of its own that is gone afterwards.
describe("PostgreSQL test databases", () => {
  let temp: TempDatabase;
  beforeAll(async () => {
    temp = await createTempDatabase();
  });
  afterAll(async () => {
    await temp?.drop();
  });

  it("gives each file an empty database of its own and drops it", async () => {
    const client = new pg.Client({ connectionString: temp.url });
    await client.connect();
    const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'");
    await client.end();
    expect(Number(rows[0]!.n)).toBe(0);
    await temp.drop();
    const other = await createTempDatabase();
    const admin = new pg.Client({ connectionString: other.url });
    await admin.connect();
    const left = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [temp.name]);
    await admin.end();
    await other.drop();
    expect(left.rowCount).toBe(0);
  });
});
