/**
 * What every Fedalign KvStore must do, whatever the database under it: the
 * SQLite store (test/kv-store.test.ts) and the PostgreSQL one
 * (test/postgres/kv-store.test.ts) run these same tests. Expiry is tested by
 * moving the stores' clock (Date.now) forward, not by sleeping.
 */
import type { KvKey, KvStore, KvStoreListEntry } from "@fedify/fedify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Temporal } from "../federation/temporal.ts";
import { advanceClock } from "./queue-contract.ts";

export type ContractKvStore = KvStore & { sweep(): unknown };

export interface KvBackend<Conn> {
  /** A new connection to the test database (a pool on PostgreSQL). */
  connect(): Promise<Conn>;
  store(conn: Conn, options?: { sweepIntervalMs?: number }): ContractKvStore;
  /** The table's rows, expired ones included: key text and expires_at. */
  rows(conn: Conn): Promise<{ key: string; expires_at: number | null }[]>;
  disconnect(conn: Conn): Promise<void>;
  /** Empties the table between tests (the database may be shared by the file). */
  reset(): Promise<void>;
}

async function collect(iterable: AsyncIterable<KvStoreListEntry>): Promise<KvStoreListEntry[]> {
  const entries: KvStoreListEntry[] = [];
  for await (const entry of iterable) entries.push(entry);
  return entries;
}

const ms = (milliseconds: number) => Temporal.Duration.from({ milliseconds });

export function describeKvStoreContract<Conn>(label: string, backend: KvBackend<Conn>): void {
  let conn: Conn;
  let kv: ContractKvStore;
  let others: Conn[];
  let restoreClock: (() => void) | undefined;

  /** Listed keys, sorted: the KvStore interface promises no order. */
  async function listKeys(prefix?: KvKey): Promise<KvKey[]> {
    const keys = (await collect(kv.list!(prefix))).map((e) => e.key);
    return keys.sort((a, b) => (a.join("\u0000") < b.join("\u0000") ? -1 : 1));
  }

  /** Moves the clock forward by `ms` from now on (until the test ends). */
  function later(ms: number): void {
    restoreClock?.();
    restoreClock = advanceClock(ms);
  }

  async function open(): Promise<Conn> {
    const other = await backend.connect();
    others.push(other);
    return other;
  }

  beforeEach(async () => {
    await backend.reset();
    others = [];
    conn = await backend.connect();
    kv = backend.store(conn);
  });

  afterEach(async () => {
    restoreClock?.();
    restoreClock = undefined;
    await backend.disconnect(conn);
    for (const other of others) await backend.disconnect(other);
  });

  describe(`${label}: the KvStore contract`, () => {
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
      await kv.set(["short"], "v", { ttl: ms(60_000) });
      await kv.set(["long"], "v", { ttl: Temporal.Duration.from({ hours: 1 }) });
      await kv.set(["days"], "v", { ttl: Temporal.Duration.from({ days: 1 }) });
      await kv.set(["forever"], "v");
      expect(await kv.get(["short"])).toBe("v");
      later(61_000);
      expect(await kv.get(["short"])).toBeUndefined();
      expect(await listKeys()).toEqual([["days"], ["forever"], ["long"]]);
      // The row is still there until a sweep removes it.
      expect(await backend.rows(conn)).toHaveLength(4);
      await kv.sweep();
      expect((await backend.rows(conn)).map((r) => r.key).sort()).toEqual(['["days"]', '["forever"]', '["long"]']);
      later(2 * 3_600_000);
      expect(await listKeys()).toEqual([["days"], ["forever"]]);
      // Setting again without ttl makes the value permanent.
      await kv.set(["days"], "w");
      const row = (await backend.rows(conn)).find((r) => r.key === '["days"]');
      expect(row?.expires_at).toBeNull();
    });

    it("gives entries that remote servers can make Fedify write a week's ttl when Fedify sets none", async () => {
      await kv.set(["_fedify", "publicKey", "https://remote.example/key"], { k: 1 });
      await kv.set(["_fedify", "activityIdempotence", "x"], true);
      later(8 * 24 * 3_600_000);
      expect(await kv.get(["_fedify", "publicKey", "https://remote.example/key"])).toBeUndefined();
      expect(await kv.get(["_fedify", "activityIdempotence", "x"])).toBe(true);
    });

    it("sweeps expired rows lazily on writes, at most once per interval", async () => {
      const sweeping = backend.store(conn, { sweepIntervalMs: 0 });
      await sweeping.set(["gone"], 1, { ttl: ms(10) });
      later(30);
      await sweeping.set(["other"], 2);
      expect((await backend.rows(conn)).map((r) => r.key)).toEqual(['["other"]']);
    });

    it("compares and swaps atomically", async () => {
      // Absent: only `undefined` matches.
      expect(await kv.cas!(["c"], null, 1)).toBe(false);
      expect(await kv.get(["c"])).toBeUndefined();
      expect(await kv.cas!(["c"], undefined, { state: "closed", failures: [] })).toBe(true);
      expect(await kv.cas!(["c"], undefined, "again")).toBe(false);
      // Structural comparison, object key order ignored (as Fedify's MemoryKvStore).
      expect(await kv.cas!(["c"], { failures: [], state: "closed" }, { state: "open" })).toBe(true);
      expect(await kv.cas!(["c"], { state: "closed", failures: [] }, "stale")).toBe(false);
      expect(await kv.get(["c"])).toEqual({ state: "open" });
      // Arrays compare in order.
      await kv.set(["arr"], [1, 2]);
      expect(await kv.cas!(["arr"], [2, 1], [])).toBe(false);
      expect(await kv.cas!(["arr"], [1, 2], [3])).toBe(true);
      // Types are not coerced: "1" is not 1, and null is not absent.
      await kv.set(["typed"], 1);
      expect(await kv.cas!(["typed"], "1", 2)).toBe(false);
      await kv.set(["nullish"], null);
      expect(await kv.cas!(["nullish"], undefined, 1)).toBe(false);
      expect(await kv.cas!(["nullish"], null, 1)).toBe(true);
      // A new value of undefined deletes: how Fedify consumes signature nonces.
      await kv.set(["nonce", "n1"], true);
      expect(await kv.cas!(["nonce", "n1"], true, undefined)).toBe(true);
      expect(await kv.get(["nonce", "n1"])).toBeUndefined();
      expect(await kv.cas!(["nonce", "n1"], true, undefined)).toBe(false);
      // Absent stays absent.
      expect(await kv.cas!(["nonce", "n1"], undefined, undefined)).toBe(true);
    });

    it("treats an expired value as absent in cas, and applies the new ttl", async () => {
      await kv.set(["lock"], "old", { ttl: ms(20) });
      later(40);
      expect(await kv.cas!(["lock"], "old", "new")).toBe(false);
      expect(await kv.cas!(["lock"], undefined, "mine", { ttl: ms(60_000) })).toBe(true);
      expect(await kv.get(["lock"])).toBe("mine");
      later(40 + 61_000);
      expect(await kv.get(["lock"])).toBeUndefined();
    });

    it("lets exactly one of two connections win a cas race", async () => {
      const kv2 = backend.store(await open());
      for (let round = 0; round < 20; round++) {
        await kv.set(["counter"], round);
        const results = await Promise.all([kv.cas!(["counter"], round, "one"), kv2.cas!(["counter"], round, "two")]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await kv2.get(["counter"])).toBe(results[0] ? "one" : "two");
      }
      // Racing to create an absent key: one wins too.
      for (let round = 0; round < 20; round++) {
        const results = await Promise.all([kv.cas!(["fresh", String(round)], undefined, "one"), kv2.cas!(["fresh", String(round)], undefined, "two")]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await kv.get(["fresh", String(round)])).toBe(results[0] ? "one" : "two");
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
      const entries = await collect(kv.list!(["a", "b"]));
      expect(entries).toHaveLength(2);
      expect(entries).toContainEqual({ key: ["a", "b"], value: 1 });
      expect(entries).toContainEqual({ key: ["a", "b", "c"], value: 2 });
    });

    it("lists non-ASCII keys and hides expired entries", async () => {
      await kv.set(["ü", "é"], 1);
      await kv.set(["ü", "😀"], 2);
      await kv.set(["ü"], 3, { ttl: ms(10) });
      await kv.set(["üx"], 4);
      later(30);
      expect(await listKeys(["ü"])).toEqual([["ü", "é"], ["ü", "😀"]]);
    });

    it("allows other statements while a listing is being consumed", async () => {
      for (let i = 0; i < 5; i++) await kv.set(["item", String(i)], i);
      const seen: number[] = [];
      for await (const entry of kv.list!(["item"])) {
        seen.push(entry.value as number);
        await kv.delete(entry.key);
      }
      expect(seen.sort()).toEqual([0, 1, 2, 3, 4]);
      expect(await listKeys(["item"])).toEqual([]);
    });

    it("keeps values for a new connection", async () => {
      await kv.set(["persist", "me"], { x: [1, 2, 3] });
      await kv.set(["ttl"], "still valid", { ttl: Temporal.Duration.from({ minutes: 5 }) });
      const kv2 = backend.store(await open());
      expect(await kv2.get(["persist", "me"])).toEqual({ x: [1, 2, 3] });
      expect(await kv2.get(["ttl"])).toBe("still valid");
    });
  });
}
