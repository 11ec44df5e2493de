import { Temporal } from "../federation/temporal.ts";
import type { KvKey, KvStoreListEntry } from "@fedify/fedify";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeDatabase, openDatabase, type Db } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { SqliteKvStore } from "../federation/kv-store.ts";

let dir: string;
let file: string;
let db: Db;
let kv: SqliteKvStore;

function open(): Db {
  const opened = openDatabase(file);
  runMigrations(opened, file);
  return opened;
}

async function collect(iterable: AsyncIterable<KvStoreListEntry>): Promise<KvStoreListEntry[]> {
  const entries: KvStoreListEntry[] = [];
  for await (const entry of iterable) entries.push(entry);
  return entries;
}

/** Listed keys, sorted: the KvStore interface promises no order. */
async function listKeys(prefix?: KvKey): Promise<KvKey[]> {
  const keys = (await collect(kv.list(prefix))).map((e) => e.key);
  return keys.sort((a, b) => (a.join("\u0000") < b.join("\u0000") ? -1 : 1));
}

const ms = (milliseconds: number) => Temporal.Duration.from({ milliseconds });
const sleep = (milliseconds: number) => new Promise((r) => setTimeout(r, milliseconds));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedalign-kv-"));
  file = join(dir, "test.sqlite");
  db = open();
  kv = new SqliteKvStore(db);
});

afterEach(async () => {
  closeDatabase(db);
  await rm(dir, { recursive: true, force: true });
});

describe("SqliteKvStore", () => {
  it("gets, sets, overwrites and deletes JSON values", async () => {
    expect(await kv.get(["missing"])).toBeUndefined();
    const doc = { "@context": "https://www.w3.org/ns/activitystreams", n: 1, list: [1, "two", null], nested: { ok: true } };
    await kv.set(["doc", "https://example.com/a"], doc);
    expect(await kv.get(["doc", "https://example.com/a"])).toEqual(doc);
    await kv.set(["doc", "https://example.com/a"], "replaced");
    expect(await kv.get(["doc", "https://example.com/a"])).toBe("replaced");
    await kv.set(["scalar"], 0);
    await kv.set(["falsy"], false);
    await kv.set(["null"], null);
    expect(await kv.get(["scalar"])).toBe(0);
    expect(await kv.get(["falsy"])).toBe(false);
    expect(await kv.get(["null"])).toBeNull();
    await kv.delete(["doc", "https://example.com/a"]);
    expect(await kv.get(["doc", "https://example.com/a"])).toBeUndefined();
    await kv.delete(["never-existed"]); // no error
  });

  it("keeps keys that differ only in segmentation apart", async () => {
    await kv.set(["a", "b"], 1);
    await kv.set(["a,b"], 2);
    await kv.set(["a\",\"b"], 3);
    expect(await kv.get(["a", "b"])).toBe(1);
    expect(await kv.get(["a,b"])).toBe(2);
    expect(await kv.get(["a\",\"b"])).toBe(3);
  });

  it("hides values whose ttl has passed, and sweeps them", async () => {
    await kv.set(["short"], "v", { ttl: ms(150) });
    await kv.set(["long"], "v", { ttl: Temporal.Duration.from({ hours: 1 }) });
    await kv.set(["days"], "v", { ttl: Temporal.Duration.from({ days: 1 }) });
    await kv.set(["forever"], "v");
    expect(await kv.get(["short"])).toBe("v");
    await sleep(200);
    expect(await kv.get(["short"])).toBeUndefined();
    expect(await listKeys()).toEqual([["days"], ["forever"], ["long"]]);
    // The row is still there until a sweep removes it.
    const count = () => (db.$client.prepare("SELECT COUNT(*) AS n FROM fedify_kv").get() as { n: number }).n;
    expect(count()).toBe(4);
    kv.sweep();
    expect(count()).toBe(3);
    // Setting again without ttl makes the value permanent.
    await kv.set(["long"], "w");
    const row = db.$client.prepare("SELECT expires_at FROM fedify_kv WHERE key = ?").get('["long"]') as { expires_at: number | null };
    expect(row.expires_at).toBeNull();
  });

  it("sweeps expired rows lazily on writes, at most once per interval", async () => {
    const sweeping = new SqliteKvStore(db, { sweepIntervalMs: 0 });
    await sweeping.set(["gone"], 1, { ttl: ms(10) });
    await sleep(30);
    await sweeping.set(["other"], 2);
    const keys = (db.$client.prepare("SELECT key FROM fedify_kv").all() as { key: string }[]).map((r) => r.key);
    expect(keys).toEqual(['["other"]']);
  });

  it("compares and swaps atomically", async () => {
    // Absent: only `undefined` matches.
    expect(await kv.cas(["c"], null, 1)).toBe(false);
    expect(await kv.get(["c"])).toBeUndefined();
    expect(await kv.cas(["c"], undefined, { state: "closed", failures: [] })).toBe(true);
    expect(await kv.cas(["c"], undefined, "again")).toBe(false);
    // Structural comparison, object key order ignored (as Fedify's MemoryKvStore).
    expect(await kv.cas(["c"], { failures: [], state: "closed" }, { state: "open" })).toBe(true);
    expect(await kv.cas(["c"], { state: "closed", failures: [] }, "stale")).toBe(false);
    expect(await kv.get(["c"])).toEqual({ state: "open" });
    // Arrays compare in order.
    await kv.set(["arr"], [1, 2]);
    expect(await kv.cas(["arr"], [2, 1], [])).toBe(false);
    expect(await kv.cas(["arr"], [1, 2], [3])).toBe(true);
    // A new value of undefined deletes: how Fedify consumes signature nonces.
    await kv.set(["nonce", "n1"], true);
    expect(await kv.cas(["nonce", "n1"], true, undefined)).toBe(true);
    expect(await kv.get(["nonce", "n1"])).toBeUndefined();
    expect(await kv.cas(["nonce", "n1"], true, undefined)).toBe(false);
  });

  it("treats an expired value as absent in cas, and applies the new ttl", async () => {
    await kv.set(["lock"], "old", { ttl: ms(20) });
    await sleep(40);
    expect(await kv.cas(["lock"], "old", "new")).toBe(false);
    expect(await kv.cas(["lock"], undefined, "mine", { ttl: ms(100) })).toBe(true);
    expect(await kv.get(["lock"])).toBe("mine");
    await sleep(130);
    expect(await kv.get(["lock"])).toBeUndefined();
  });

  it("lets exactly one of two connections win a cas race", async () => {
    const other = open();
    try {
      const kv2 = new SqliteKvStore(other);
      await kv.set(["counter"], 0);
      const results = await Promise.all([kv.cas(["counter"], 0, 1), kv2.cas(["counter"], 0, 2)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await kv2.get(["counter"])).toBe(results[0] ? 1 : 2);
    } finally {
      closeDatabase(other);
    }
  });

  it("lists by whole-segment prefix", async () => {
    const keys: KvKey[] = [["a"], ["a", "b"], ["a", "b", "c"], ["ab"], ["a\"b"], ["a", "c"], ["b", "a"], ["a%"], ["a_"]];
    for (const [i, key] of keys.entries()) await kv.set(key, i);
    expect(await listKeys(["a"])).toEqual([["a"], ["a", "b"], ["a", "b", "c"], ["a", "c"]]);
    expect(await listKeys(["a", "b"])).toEqual([["a", "b"], ["a", "b", "c"]]);
    expect(await listKeys(["a%"])).toEqual([["a%"]]);
    expect(await listKeys(["a_"])).toEqual([["a_"]]);
    expect(await listKeys(["nope"])).toEqual([]);
    expect(await listKeys()).toHaveLength(keys.length);
    const entries = await collect(kv.list(["a", "b"]));
    expect(entries).toHaveLength(2);
    expect(entries).toContainEqual({ key: ["a", "b"], value: 1 });
    expect(entries).toContainEqual({ key: ["a", "b", "c"], value: 2 });
  });

  it("lists non-ASCII keys and hides expired entries", async () => {
    await kv.set(["ü", "é"], 1);
    await kv.set(["ü", "😀"], 2);
    await kv.set(["ü"], 3, { ttl: ms(10) });
    await kv.set(["üx"], 4);
    await sleep(30);
    expect(await listKeys(["ü"])).toEqual([["ü", "é"], ["ü", "😀"]]);
  });

  it("allows other statements while a listing is being consumed", async () => {
    for (let i = 0; i < 5; i++) await kv.set(["item", String(i)], i);
    const seen: number[] = [];
    for await (const entry of kv.list(["item"])) {
      seen.push(entry.value as number);
      await kv.delete(entry.key);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(await listKeys(["item"])).toEqual([]);
  });

  it("persists values across reopening the database", async () => {
    await kv.set(["persist", "me"], { x: [1, 2, 3] });
    await kv.set(["ttl"], "still valid", { ttl: Temporal.Duration.from({ minutes: 5 }) });
    closeDatabase(db);
    db = open();
    kv = new SqliteKvStore(db);
    expect(await kv.get(["persist", "me"])).toEqual({ x: [1, 2, 3] });
    expect(await kv.get(["ttl"])).toBe("still valid");
  });
});
