/**
 * Issue 19, item 4: `fedalign admin migrate --to postgres://…` copies a real
 * SQLite instance whole (users and keys, the Model Spec policy with its
 * signed version, an annotation, HH-RLHF preference records, deliveries
 * waiting in the queue, Fedify's key-value cache) into an empty PostgreSQL
 * database. Every row reads back through the PostgreSQL schema as the same
 * values it has on SQLite, signed documents byte for byte; a second run is
 * refused and changes nothing; a copy that fails leaves the target empty.
 * The command runs as a user runs it (the built `fedalign`).
 */
import Database from "better-sqlite3";
import { asc, is } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { getTableConfig as pgTableConfig, PgTable, type PgColumn } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteTableConfig, SQLiteTable, type SQLiteColumn } from "drizzle-orm/sqlite-core";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDatabase, databasePath, openDatabase, type Db } from "../../db/client.ts";
import * as pgSchema from "../../db/postgres/schema.ts";
import * as sqliteSchema from "../../db/schema.ts";
import { getUserByUsername } from "../../src/accounts/users.ts";
import { createCommunity } from "../../src/communities.ts";
import { importModelSpec } from "../../src/policies/import/modelspec.ts";
import { runCli, waitFor } from "../harness.ts";
import { startLocalInstance, type LocalInstance } from "../local-instance.ts";
import { createTempDatabase, type TempDatabase } from "./temp-database.ts";

const HH_LINES = 2312;

let a: LocalInstance;
let b: LocalInstance;
let target: TempDatabase;
let pool: pg.Pool;
let migrated: Awaited<ReturnType<typeof migrate>>;
let work: string;

const migrate = (url: string, dataDir: string, extra: string[] = []) =>
  runCli(["admin", "migrate", "--to", url, "--data", dataDir, ...extra], { timeoutMs: 300_000 });

beforeAll(async () => {
  [a, b, target] = await Promise.all([startLocalInstance(), startLocalInstance(), createTempDatabase()]);
  pool = new pg.Pool({ connectionString: target.url, max: 2 });
  const [alice, bob] = await Promise.all([a.createUser("alice", { admin: true }), b.createUser("bob")]);
  await createCommunity(a.instance.db, { handle: "spec", name: "Model Spec readers", steward: (await getUserByUsername(a.instance.db, "alice"))! });

  // B's bob follows the community: A caches B's actor and key (fedify_kv) and will deliver to B.
  await b.api("POST", "follows", { token: bob.token, body: { target: a.actorUri("spec") } });
  await waitFor(async () => (await b.api<{ state: string }[]>("GET", "follows", { token: bob.token })).body[0]?.state === "accepted", {
    what: "B's follow to be accepted",
  });

  const { content } = importModelSpec(readFileSync(new URL("../fixtures/model_spec/model_spec.md", import.meta.url), "utf8"));
  const created = await a.api<{ id: number; iri: string }>("POST", "policies", { token: alice.token, body: { community: "spec", slug: "model-spec", content } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const version = await a.api<{ iri: string }>("POST", `policies/${created.body.id}/publish`, { token: alice.token, body: {} });
  expect(version.status, JSON.stringify(version.body)).toBe(201);
  const clause = content.clauses[0]!.id;
  const note = await a.api("POST", "annotations", {
    token: alice.token,
    body: { target: `${version.body.iri}/clauses/${clause}`, motivation: "comment", text: "Ünïcode, \"quotes\" and a tab\there." },
  });
  expect(note.status, JSON.stringify(note.body)).toBe(201);

  const hh = gunzipSync(readFileSync(new URL("../fixtures/hh-rlhf/harmless-base-test.jsonl.gz", import.meta.url)));
  const params = new URLSearchParams({ community: "spec", format: "hh-rlhf", policy: String(created.body.id), licence: "MIT", consent: "train,federate", source: "hh.jsonl" });
  const imported = await fetch(`${a.origin}/api/v1/preferences/import?${params}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${alice.token}`, "Content-Type": "application/octet-stream" },
    body: hh,
  });
  expect(imported.status).toBe(200);

  // B goes away: the deliveries of the new version to it wait in A's queue for a retry.
  await b.stop();
  await waitFor(() => countIn(a.instance.db, "SELECT count(*) AS n FROM fedify_queue WHERE deliver_at > unixepoch('subsec') * 1000") > 0, {
    what: "a delivery to B to wait for a retry",
    timeoutMs: 60_000,
  });
  await a.stop();

  work = mkdtempSync(join(tmpdir(), "fedalign-migrate-"));
  migrated = await migrate(target.url, a.dataDir);
}, 300_000);

afterAll(async () => {
  await pool?.end();
  await Promise.all([a?.destroy(), b?.destroy(), target?.drop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

function countIn(db: Db, query: string): number {
  return (db.$client.raw.prepare(query).get() as { n: number }).n;
}

function withSqlite<T>(dataDir: string, action: (db: Db) => T): T {
  const db = openDatabase(databasePath(dataDir), { mustExist: true });
  const done = () => closeDatabase(db);
  try {
    const result = action(db);
    if (result instanceof Promise) return result.finally(done) as T;
    done();
    return result;
  } catch (error) {
    done();
    throw error;
  }
}

const pgTables = () => (Object.values(pgSchema) as unknown[]).filter((v): v is PgTable => is(v, PgTable));
const sqliteTables = new Map(
  (Object.values(sqliteSchema) as unknown[])
    .filter((v): v is SQLiteTable => is(v, SQLiteTable))
    .map((t) => [sqliteTableConfig(t).name, t]),
);

async function pgCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of pgTables()) {
    const name = pgTableConfig(table).name;
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${name}"`);
    counts[name] = Number(rows[0]!.n);
  }
  return counts;
}

function keyOf<C extends SQLiteColumn | PgColumn>(config: { primaryKeys: { columns: C[] }[]; columns: C[] }): C[] {
  return config.primaryKeys[0]?.columns ?? config.columns.filter((c) => c.primary);
}

describe("fedalign admin migrate", () => {
  it("copies every table and prints a summary", () => {
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/^TABLE\s+ROWS\s+SECONDS$/m);
    expect(migrated.stdout).toMatch(new RegExp(`^preference_records\\s+${HH_LINES}\\s`, "m"));
    expect(migrated.stdout).toMatch(/Copied \d+ rows .* row counts match\.$/m);
  });

  it("reads back every row through the PostgreSQL schema as the same values", async () => {
    const target = drizzle({ client: pool });
    const counts = await withSqlite(a.dataDir, async (db) => {
      const seen: Record<string, number> = {};
      for (const pgTable of pgTables()) {
        const name = pgTableConfig(pgTable).name;
        const sqliteTable = sqliteTables.get(name);
        if (!sqliteTable) continue; // the clause search index: checked below
        const key = keyOf(sqliteTableConfig(sqliteTable));
        const pgKey = keyOf(pgTableConfig(pgTable));
        const before = await db.select().from(sqliteTable).orderBy(...key.map((c) => asc(c)));
        const after = await target.select().from(pgTable).orderBy(...pgKey.map((c) => asc(c)));
        expect(after, name).toEqual(before);
        seen[name] = before.length;
      }
      return seen;
    });
    // The instance held what the command must carry: not a copy of empty tables.
    expect(counts.users).toBe(1);
    expect(counts.actor_keys).toBe(6); // instance, alice, community: RSA and Ed25519 each
    expect(counts.policy_versions).toBe(1);
    expect(counts.annotations).toBe(1);
    expect(counts.preference_records).toBe(HH_LINES);
    expect(counts.fedify_queue).toBeGreaterThan(0);
    expect(counts.fedify_kv).toBeGreaterThan(0);
    expect(counts.follows).toBe(1);
  });

  it("keeps signed documents and keys byte for byte", async () => {
    const raw = new Database(databasePath(a.dataDir), { readonly: true });
    try {
      for (const [table, column] of [["policy_versions", "document"], ["annotations", "note"], ["preference_records", "record"], ["fedify_queue", "message"]] as const) {
        const before = raw.prepare(`SELECT ${column} AS v FROM ${table} ORDER BY id`).all() as { v: string }[];
        const { rows: after } = await pool.query<{ v: string }>(`SELECT ${column} AS v FROM ${table} ORDER BY id`);
        expect(after.length, table).toBe(before.length);
        expect(after.map((r) => r.v), `${table}.${column}`).toEqual(before.map((r) => r.v));
      }
      const document = (raw.prepare("SELECT document FROM policy_versions").get() as { document: string }).document;
      expect(JSON.parse(document).proof).toBeDefined();
      const keys = raw.prepare("SELECT actor_id, algorithm, public_jwk, private_jwk FROM actor_keys ORDER BY actor_id, algorithm").all() as Record<string, string>[];
      const { rows } = await pool.query("SELECT actor_id, algorithm, public_jwk, private_jwk FROM actor_keys ORDER BY actor_id, algorithm");
      expect(rows).toEqual(keys.map((k) => ({ ...k, public_jwk: JSON.parse(k.public_jwk!), private_jwk: JSON.parse(k.private_jwk!) })));
    } finally {
      raw.close();
    }
  });

  it("fills the clause search index, searchable as tsvectors", async () => {
    const indexed = withSqlite(a.dataDir, (db) => countIn(db, "SELECT count(*) AS n FROM clause_search"));
    expect(indexed).toBeGreaterThan(50);
    const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM clause_search");
    expect(Number(rows[0]!.n)).toBe(indexed);
    const { rows: hits } = await pool.query<{ clause_id: string }>(
      "SELECT clause_id FROM clause_search WHERE document @@ plainto_tsquery('english', 'honest') ORDER BY ts_rank(document, plainto_tsquery('english', 'honest')) DESC LIMIT 3",
    );
    expect(hits.length).toBeGreaterThan(0);
  });

  it("continues identity sequences after the copied ids", async () => {
    const maxId = withSqlite(a.dataDir, (db) => countIn(db, "SELECT max(id) AS n FROM preference_records"));
    const { rows } = await pool.query<{ id: number }>(
      "INSERT INTO preference_records (community_id, dedup_key, record, rater_id, consent_train, consent_federate, consent_breakdown, created_at, updated_at) SELECT community_id, 'new', record, rater_id, true, true, true, now(), now() FROM preference_records LIMIT 1 RETURNING id",
    );
    expect(rows[0]!.id).toBe(maxId + 1);
    await pool.query("DELETE FROM preference_records WHERE id = $1", [rows[0]!.id]);
  });

  it("refuses a target that holds rows, and changes nothing", async () => {
    const before = await pgCounts();
    const again = await migrate(target.url, a.dataDir);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already holds Fedalign data \(rows in .*actors.*\); nothing was copied or changed/);
    expect(again.stderr.trim().split("\n")).toHaveLength(1);
    expect(await pgCounts()).toEqual(before);
  });

  it("leaves the target empty when the copy fails, and says where", async () => {
    const broken = mkdtempSync(join(work, "data-"));
    copyFileSync(databasePath(a.dataDir), databasePath(broken));
    // PostgreSQL text cannot hold a NUL character; SQLite can. The row sits in a table copied late.
    withSqlite(broken, (db) => db.$client.raw.prepare("INSERT INTO undone_follows (follow_iri, follower_iri, expires_at) VALUES (?, ?, ?)").run("https://x.example/follow\u0000", "https://x.example/actor", Date.now()));
    const empty = await createTempDatabase();
    const emptyPool = new pg.Pool({ connectionString: empty.url, max: 1 });
    try {
      const failed = await migrate(empty.url, broken);
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toMatch(/Copying undone_follows failed .*0x00/);
      const nonEmpty: string[] = [];
      for (const table of pgTables()) {
        const name = pgTableConfig(table).name;
        const { rows } = await emptyPool.query(`SELECT 1 FROM "${name}" LIMIT 1`);
        if (rows.length > 0) nonEmpty.push(name);
      }
      expect(nonEmpty).toEqual([]);
      // The tables are there (migrated, empty), and a fixed copy goes through.
      withSqlite(broken, (db) => db.$client.raw.prepare("DELETE FROM undone_follows WHERE follower_iri = 'https://x.example/actor'").run());
      const retried = await migrate(empty.url, broken, ["--json", "--batch-size", "500"]);
      expect(retried.code, retried.stderr).toBe(0);
      const summary = JSON.parse(retried.stdout) as { tables: { table: string; rows: number }[] };
      expect(summary.tables.find((t) => t.table === "preference_records")?.rows).toBe(HH_LINES);
    } finally {
      await emptyPool.end();
      await empty.drop();
    }
  });

  it("refuses a target that is not a PostgreSQL address, before opening anything", async () => {
    const result = await migrate("mysql://localhost/x", a.dataDir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--to must be a PostgreSQL connection string/);
  });
});

