/**
 * The migration that forgets Fedify's remembered signature choices: an
 * instance that once "learned" that RFC 9421 works for a server (because
 * that server answered 202 and dropped the delivery later) signs with
 * draft-cavage again after upgrading. Other KV entries are untouched.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { InProcessMessageQueue, type KvKey } from "@fedify/fedify";
import { afterAll, expect, it } from "vitest";
import { closeDatabase, openDatabase } from "../db/client.ts";
import { MIGRATIONS_FOLDER, runMigrations } from "../db/migrate.ts";
import { createFedalignFederation } from "../federation/federation.ts";
import { createDocumentLoaders, USER_AGENT } from "../federation/fetch.ts";
import { SqliteKvStore } from "../federation/kv-store.ts";

const dir = mkdtempSync(join(tmpdir(), "fedalign-spec-reset-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("clears remembered per-origin signature specs and keeps everything else", async () => {
  // The migrations as they were before this one.
  const before = join(dir, "migrations");
  cpSync(MIGRATIONS_FOLDER, before, { recursive: true });
  const journalFile = join(before, "meta/_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8")) as { entries: { tag: string }[] };
  const index = journal.entries.findIndex((entry) => entry.tag.endsWith("signature_reset"));
  expect(index).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, index);
  writeFileSync(journalFile, JSON.stringify(journal));

  const file = join(dir, "db.sqlite");
  const db = openDatabase(file);
  migrate(drizzle(db.$client.raw), { migrationsFolder: before });
  // The exact prefix Fedify uses, read from a federation rather than copied.
  const kv = new SqliteKvStore(db);
  const loaders = createDocumentLoaders({ kv, allowPrivateAddress: false, userAgent: USER_AGENT });
  // An in-process queue: this database's queue table is as old as its migrations.
  const federation = (createFedalignFederation({ db, origin: "https://a.example", allowPrivateAddress: false, loaders, kv, queue: new InProcessMessageQueue() })) as unknown as {
    kvPrefixes: { httpMessageSignaturesSpec: KvKey };
  };
  const prefix = federation.kvPrefixes.httpMessageSignaturesSpec;
  await kv.set([...prefix, "https://mastodon.example"] as unknown as KvKey, "rfc9421");
  await kv.set([...prefix, "https://other.example"] as unknown as KvKey, "draft-cavage-http-signatures-12");
  await kv.set(["_fedify", "publicKey", "https://mastodon.example/users/a#main-key"], { kept: true });

  runMigrations(db, file);
  expect(await kv.get([...prefix, "https://mastodon.example"] as unknown as KvKey)).toBeUndefined();
  expect(await kv.get([...prefix, "https://other.example"] as unknown as KvKey)).toBeUndefined();
  expect(await kv.get(["_fedify", "publicKey", "https://mastodon.example/users/a#main-key"])).toEqual({ kept: true });
  closeDatabase(db);
});
