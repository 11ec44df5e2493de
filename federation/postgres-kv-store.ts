/**
 * Fedify's key–value store on PostgreSQL (table fedify_kv), the counterpart
 * of federation/kv-store.ts with the same encoding and guarantees: a key is
 * its JSON array text, a value JSON text, a TTL an absolute expires_at in
 * epoch milliseconds. Expired rows are invisible to reads and swept by writes
 * at most once per sweep interval (per process; several processes sweeping
 * is harmless), so no timer keeps the process alive.
 *
 * Every operation is one statement on the pool that the rest of the instance
 * uses, named so each connection plans it once. cas() is one statement too:
 * the comparison is jsonb equality (structural, object key order ignored, as
 * in the SQLite store and Fedify's MemoryKvStore), evaluated on the row
 * version that a concurrent writer left, so of two racing cas() calls on the
 * same value exactly one wins.
 */
import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from "@fedify/fedify";
import type pg from "pg";
import { encodeKey, remoteEntryTtl } from "./kv-store.ts";
import type { Temporal } from "./temporal.ts";

export interface PostgresKvStoreOptions {
  /** Minimum time between two sweeps of expired rows by this object, in ms. 60 s by default. */
  sweepIntervalMs?: number;
}

const LIVE = "(expires_at IS NULL OR expires_at > $2)";

const GET = `SELECT value::text AS value FROM fedify_kv WHERE key = $1 AND ${LIVE}`;
const UPSERT = `INSERT INTO fedify_kv (key, value, expires_at) VALUES ($1, $2, $3)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`;
const DELETE = "DELETE FROM fedify_kv WHERE key = $1";
const SWEEP = "DELETE FROM fedify_kv WHERE expires_at <= $1";
const LIST_ALL = "SELECT key, value::text AS value FROM fedify_kv WHERE (expires_at IS NULL OR expires_at > $1)";
// starts_with compares code points whatever the database's collation; see listPrefix().
const LIST_PREFIX = `SELECT key, value::text AS value FROM fedify_kv WHERE starts_with(key, $1) AND ${LIVE}`;
// cas, by case. Absent and expired are the same ("undefined") to the caller.
const CAS_ABSENT = `SELECT 1 FROM fedify_kv WHERE key = $1 AND ${LIVE}`;
const CAS_INSERT = `INSERT INTO fedify_kv (key, value, expires_at) VALUES ($1, $3, $4)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
  WHERE fedify_kv.expires_at IS NOT NULL AND fedify_kv.expires_at <= $2`;
const CAS_UPDATE = `UPDATE fedify_kv SET value = $4, expires_at = $5
  WHERE key = $1 AND ${LIVE} AND value::jsonb = $3::jsonb`;
const CAS_DELETE = `DELETE FROM fedify_kv WHERE key = $1 AND ${LIVE} AND value::jsonb = $3::jsonb`;

export class PostgresKvStore implements KvStore {
  readonly #pool: pg.Pool;
  readonly #sweepIntervalMs: number;
  #nextSweepAt = 0;

  /** The pool belongs to the caller (it is the instance's, shared with the store and the queue). */
  constructor(pool: pg.Pool, options: PostgresKvStoreOptions = {}) {
    this.#pool = pool;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  }

  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const { rows } = await this.#query<{ value: string }>("fedalign_kv_get", GET, [encodeKey(key), Date.now()]);
    return rows.length === 0 ? undefined : (JSON.parse(rows[0]!.value) as T);
  }

  async set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    const json = toJson(value);
    if (json === undefined) await this.delete(key);
    else await this.#query("fedalign_kv_upsert", UPSERT, [encodeKey(key), json, expiresAt(options?.ttl ?? remoteEntryTtl(key))]);
    await this.#maybeSweep();
  }

  async delete(key: KvKey): Promise<void> {
    await this.#query("fedalign_kv_delete", DELETE, [encodeKey(key)]);
  }

  /**
   * Sets `newValue` only if the current value equals `expectedValue`
   * (structurally, as JSON; `undefined` means "absent or expired"). A
   * `newValue` of `undefined` deletes the key: Fedify consumes signature
   * nonces with cas(key, true, undefined).
   */
  async cas(key: KvKey, expectedValue: unknown, newValue: unknown, options?: KvStoreSetOptions): Promise<boolean> {
    const k = encodeKey(key);
    const now = Date.now();
    const expected = toJson(expectedValue);
    const next = toJson(newValue);
    const ttl = expiresAt(options?.ttl ?? remoteEntryTtl(key));
    let swapped: boolean;
    if (expected === undefined && next === undefined) {
      swapped = (await this.#query("fedalign_kv_cas_absent", CAS_ABSENT, [k, now])).rowCount === 0;
    } else if (expected === undefined) {
      // Inserts, or replaces an expired row; a live row (even one inserted by a
      // racing cas a moment ago) makes the conflict clause do nothing.
      swapped = (await this.#query("fedalign_kv_cas_insert", CAS_INSERT, [k, now, next, ttl])).rowCount === 1;
    } else if (next === undefined) {
      swapped = (await this.#query("fedalign_kv_cas_delete", CAS_DELETE, [k, now, expected])).rowCount === 1;
    } else {
      swapped = (await this.#query("fedalign_kv_cas_update", CAS_UPDATE, [k, now, expected, next, ttl])).rowCount === 1;
    }
    await this.#maybeSweep();
    return swapped;
  }

  /** The live entries whose key starts with the given segments (whole segments: ["a"] lists ["a", "b"], not ["ab"]), in no particular order. */
  async *list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    const now = Date.now();
    // Read everything first, so no connection is held across yields.
    const { rows } =
      prefix === undefined || prefix.length === 0
        ? await this.#query<{ key: string; value: string }>("fedalign_kv_list_all", LIST_ALL, [now])
        : await this.#query<{ key: string; value: string }>("fedalign_kv_list_prefix", LIST_PREFIX, [listPrefix(prefix), now]);
    for (const row of rows) {
      yield { key: JSON.parse(row.key) as KvKey, value: JSON.parse(row.value) as unknown };
    }
  }

  /** Deletes every expired row now (normally done by writes, at most once per interval); returns how many. */
  async sweep(): Promise<number> {
    return (await this.#query("fedalign_kv_sweep", SWEEP, [Date.now()])).rowCount ?? 0;
  }

  async #maybeSweep(): Promise<void> {
    const now = Date.now();
    if (now < this.#nextSweepAt || this.#pool.ending) return;
    this.#nextSweepAt = now + this.#sweepIntervalMs;
    await this.#query("fedalign_kv_sweep", SWEEP, [now]);
  }

  #query<R extends pg.QueryResultRow = pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return this.#pool.query<R>({ name, text, values });
  }
}

/**
 * The text every stored key of the prefix starts with: the prefix's JSON
 * without its closing bracket. After `["a"` only `]` (the key itself) or `,`
 * (a longer key) can follow, since a quote inside a JSON string is always
 * escaped: `["ab"]` and `["a\"b"]` do not start with it.
 */
function listPrefix(prefix: KvKey): string {
  return encodeKey(prefix).slice(0, -1);
}

/** The JSON text of a value as it would be stored, or undefined if it has none (undefined, functions...). */
function toJson(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

function expiresAt(ttl: Temporal.Duration | undefined): number | null {
  return ttl === undefined ? null : Date.now() + Math.round(ttl.total("millisecond"));
}
