/**
 * Issue 12, item 5 (rows any remote actor can create have a TTL) and item 12
 * (the memory of early Undos expires), on a migrated database in process.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeDatabase, openDatabase, type Db } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { federatedActors, follows } from "../db/schema.ts";
import { SqliteKvStore } from "../federation/kv-store.ts";
import { rememberUndoneFollow, UNDONE_FOLLOW_TTL_MS, wasUndone } from "../src/follows.ts";
import { ACTOR_RETENTION_MS, pruneRemoteRows } from "../src/retention.ts";

let dir: string;
let db: Db;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedalign-retention-"));
  const file = join(dir, "db.sqlite");
  db = openDatabase(file);
  runMigrations(db, file);
});

afterEach(async () => {
  closeDatabase(db);
  await rm(dir, { recursive: true, force: true });
});

async function actor(iri: string, fetchedAt: Date) {
  await db.insert(federatedActors).values({ iri, type: "Person", handle: null, name: null, inboxUrl: `${iri}/inbox`, sharedInboxUrl: null, url: null, fetchedAt });
}

describe("retention of remote-created rows", () => {
  it("prunes cached actors nothing refers to once unseen for the retention period, and keeps the rest", async () => {
    const now = new Date();
    const old = new Date(now.getTime() - ACTOR_RETENTION_MS - 1000);
    await actor("https://a.example/users/stale", old);
    await actor("https://a.example/users/followed", old);
    await actor("https://a.example/users/recent", now);
    await db.insert(follows).values({ followerIri: "https://a.example/users/followed", followeeIri: "https://here.example/actors/x", activityIri: "https://a.example/f", state: "accepted", updatedAt: now });
    expect(await pruneRemoteRows(db, now)).toEqual({ undoneFollows: 0, actors: 1 });
    expect((await db.select({ iri: federatedActors.iri }).from(federatedActors)).map((r) => r.iri).sort()).toEqual([
      "https://a.example/users/followed",
      "https://a.example/users/recent",
    ]);
  });

  it("forgets an early Undo after its TTL", async () => {
    const then = new Date("2026-01-01T00:00:00Z");
    await rememberUndoneFollow(db, "https://a.example/f1", "https://a.example/users/x", then);
    expect(await wasUndone(db, "https://a.example/f1", "https://a.example/users/x", then)).toBe(true);
    expect(await wasUndone(db, "https://a.example/f1", "https://a.example/users/y", then)).toBe(false);
    const later = new Date(then.getTime() + UNDONE_FOLLOW_TTL_MS + 1);
    expect(await wasUndone(db, "https://a.example/f1", "https://a.example/users/x", later)).toBe(false);
    expect((await pruneRemoteRows(db, later)).undoneFollows).toBe(1);
  });

  it("gives Fedify's per-host and cached entries a TTL when Fedify sets none", async () => {
    const kv = new SqliteKvStore(db);
    await kv.set(["_fedify", "publicKey", "https://a.example/users/x#main-key"], { key: 1 });
    await kv.set(["_fedify", "httpMessageSignaturesSpec", "https://a.example"], "draft-cavage-http-signatures-12");
    await kv.set(["local", "setting"], 1);
    const rows = await db.$client.all<{ key: string; expires_at: number | null }>(sql`SELECT key, expires_at FROM fedify_kv ORDER BY key`);
    const expiry = Object.fromEntries(rows.map((r) => [r.key, r.expires_at]));
    const remote = Object.entries(expiry).filter(([key]) => key.includes("_fedify"));
    expect(remote).toHaveLength(2);
    for (const [, expiresAt] of remote) expect(expiresAt).toBeGreaterThan(Date.now() + 6 * 24 * 3600_000);
    expect(Object.entries(expiry).find(([key]) => key.includes("local"))?.[1]).toBeNull();
  });
});
