/**
 * Fedify's key–value store on the instance database (table fedify_kv).
 *
 * Fedify hits this store on hot paths (public key cache, idempotency records,
 * signature nonces, circuit breaker state), so every operation is a single
 * prepared better-sqlite3 statement; only cas() needs a transaction.
 *
 * Encoding: a key is stored as its JSON array text (["a","b"]), a value as
 * JSON text, a TTL as an absolute expires_at in epoch milliseconds. Expired
 * rows are invisible to reads and are swept by writes at most once per sweep
 * interval, so no timer keeps the process alive.
 */
import { Temporal } from "./temporal.ts";
import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from "@fedify/fedify";
import type Database from "better-sqlite3";
import type { Db } from "../db/client.ts";

export interface SqliteKvStoreOptions {
  /** Minimum time between two sweeps of expired rows, in ms. 60 s by default. */
  sweepIntervalMs?: number;
}

interface Row {
  key: string;
  value: string;
}

/**
 * Entries any remote server can make Fedify write (its keys, the signature
 * format it speaks, its circuit-breaker state, cached documents) expire
 * after a week when Fedify sets no TTL, so they cannot pile up forever.
 */
export const REMOTE_ENTRY_TTL = Temporal.Duration.from({ days: 7 });
const REMOTE_PREFIXES = new Set(["publicKey", "httpMessageSignaturesSpec", "circuit", "remoteDocument", "remoteContext"]);

/** The TTL a key gets when Fedify sets none (shared with the PostgreSQL store). */
export function remoteEntryTtl(key: KvKey): Temporal.Duration | undefined {
  return key[0] === "_fedify" && REMOTE_PREFIXES.has(String(key[1])) ? REMOTE_ENTRY_TTL : undefined;
}

export class SqliteKvStore implements KvStore {
  readonly #client: Db["$client"];
  readonly #sweepIntervalMs: number;
  #nextSweepAt = 0;

  readonly #getStmt: Database.Statement<[string, number], { value: string }>;
  readonly #upsertStmt: Database.Statement<[string, string, number | null]>;
  readonly #deleteStmt: Database.Statement<[string]>;
  readonly #listAllStmt: Database.Statement<[number], Row>;
  readonly #listRangeStmt: Database.Statement<[string, string, number], Row>;
  readonly #sweepStmt: Database.Statement<[number]>;
  readonly #casTransaction: (key: string, expected: unknown, newValue: unknown, ttl?: Temporal.Duration) => boolean;

  constructor(db: Db, options: SqliteKvStoreOptions = {}) {
    this.#client = db.$client;
    const client = db.$client.raw;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
    const live = "(expires_at IS NULL OR expires_at > ?)";
    this.#getStmt = client.prepare(`SELECT value FROM fedify_kv WHERE key = ? AND ${live}`);
    this.#upsertStmt = client.prepare(
      `INSERT INTO fedify_kv (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    );
    this.#deleteStmt = client.prepare("DELETE FROM fedify_kv WHERE key = ?");
    this.#listAllStmt = client.prepare(`SELECT key, value FROM fedify_kv WHERE ${live} ORDER BY key`);
    // A range on the primary key index; see prefixRange() for why it is exact.
    this.#listRangeStmt = client.prepare(
      `SELECT key, value FROM fedify_kv WHERE key >= ? AND key < ? AND ${live} ORDER BY key`,
    );
    this.#sweepStmt = client.prepare("DELETE FROM fedify_kv WHERE expires_at <= ?");
    // IMMEDIATE takes the write lock before reading, so another process cannot
    // change the row between our read and our write (and a deferred read
    // transaction upgrading to a write could fail with SQLITE_BUSY instead).
    this.#casTransaction = client.transaction(this.#casInTransaction.bind(this)).immediate;
  }

  // Every statement runs with the connection lent to this flow
  // (`exclusive`): otherwise it would land inside a transaction another
  // request has open, and be rolled back or committed with it.
  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const row = await this.#client.exclusive(() => this.#getStmt.get(encodeKey(key), Date.now()));
    return row === undefined ? undefined : (JSON.parse(row.value) as T);
  }

  async set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    await this.#client.exclusive(() => {
      this.#write(encodeKey(key), value, options?.ttl ?? remoteEntryTtl(key));
      this.#maybeSweep();
    });
  }

  async delete(key: KvKey): Promise<void> {
    await this.#client.exclusive(() => this.#deleteStmt.run(encodeKey(key)));
  }

  /**
   * Sets `newValue` only if the current value equals `expectedValue`
   * (structurally, as JSON; `undefined` means "absent or expired"). A
   * `newValue` of `undefined` deletes the key: Fedify consumes signature
   * nonces with cas(key, true, undefined).
   */
  async cas(key: KvKey, expectedValue: unknown, newValue: unknown, options?: KvStoreSetOptions): Promise<boolean> {
    return await this.#client.exclusive(() => {
      const swapped = this.#casTransaction(encodeKey(key), expectedValue, newValue, options?.ttl ?? remoteEntryTtl(key));
      this.#maybeSweep();
      return swapped;
    });
  }

  async *list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    const now = Date.now();
    // Read everything first: a better-sqlite3 iterator kept open across
    // yields would block every other statement on this connection.
    const rows = await this.#client.exclusive(() =>
      prefix === undefined || prefix.length === 0
        ? this.#listAllStmt.all(now)
        : this.#listRangeStmt.all(...prefixRange(prefix), now),
    );
    for (const row of rows) {
      yield { key: JSON.parse(row.key) as KvKey, value: JSON.parse(row.value) as unknown };
    }
  }

  /** Deletes every expired row now (normally done by writes, at most once per interval). */
  async sweep(): Promise<void> {
    await this.#client.exclusive(() => this.#sweepStmt.run(Date.now()));
  }

  #casInTransaction(key: string, expected: unknown, newValue: unknown, ttl?: Temporal.Duration): boolean {
    const row = this.#getStmt.get(key, Date.now());
    const current = row === undefined ? undefined : (JSON.parse(row.value) as unknown);
    if (!jsonEqual(current, normalise(expected))) return false;
    this.#write(key, newValue, ttl);
    return true;
  }

  /** Upserts, or deletes when the value is undefined (it has no JSON form). */
  #write(key: string, value: unknown, ttl?: Temporal.Duration): void {
    const json = value === undefined ? undefined : JSON.stringify(value);
    if (json === undefined) {
      this.#deleteStmt.run(key);
      return;
    }
    const expiresAt = ttl === undefined ? null : Date.now() + Math.round(ttl.total("millisecond"));
    this.#upsertStmt.run(key, json, expiresAt);
  }

  /** Only with the connection held (inside `exclusive`). */
  #maybeSweep(): void {
    const now = Date.now();
    if (now < this.#nextSweepAt || !this.#client.open) return;
    this.#nextSweepAt = now + this.#sweepIntervalMs;
    this.#sweepStmt.run(now);
  }
}

/** A key as stored: its JSON array text (shared with the PostgreSQL store). */
export function encodeKey(key: KvKey): string {
  return JSON.stringify(key);
}

/**
 * The [lower, upper) text range holding exactly the keys that start with the
 * given segments. For ["a"] the lower bound is `["a"` (the JSON without its
 * closing bracket): a quote inside a JSON string is always escaped, so after
 * `["a"` only `]` (the key itself) or `,` (a longer key) can follow, and
 * `["ab"]` or `["a\"b"]` do not start with it. The upper bound replaces that
 * final quote by the next character, `#`; SQLite compares text bytewise.
 */
function prefixRange(prefix: KvKey): [string, string] {
  const lower = encodeKey(prefix).slice(0, -1);
  return [lower, `${lower.slice(0, -1)}#`];
}

/** The value as it would read back from the store (undefined fields dropped, dates as strings...). */
function normalise(value: unknown): unknown {
  const json = value === undefined ? undefined : JSON.stringify(value);
  return json === undefined ? undefined : (JSON.parse(json) as unknown);
}

/** Structural equality of two parsed JSON values (object key order ignored, as in Fedify's MemoryKvStore). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  const aKeys = Object.keys(aRecord);
  if (aKeys.length !== Object.keys(bRecord).length) return false;
  return aKeys.every((k) => Object.hasOwn(bRecord, k) && jsonEqual(aRecord[k], bRecord[k]));
}
