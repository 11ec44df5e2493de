/**
 * Copies a whole SQLite instance database into an empty PostgreSQL database
 * (`fedalign admin migrate --to postgres://…`).
 *
 * - The target must hold no Fedalign rows: it is checked before the
 *   migrations run (so a refused target is not touched) and again inside the
 *   copy's transaction, under an advisory lock (so two copies cannot both
 *   find it empty).
 * - Every table of db/postgres/schema.ts is copied in foreign-key order, in
 *   one PostgreSQL transaction: any failure rolls everything back and leaves
 *   the target without rows.
 * - SQLite is read in batches, keyset by primary key, inside one read
 *   transaction (one snapshot, even if the server is writing).
 * - Each value goes through the SQLite column's own decoding and the
 *   PostgreSQL column's encoding, so it reads back as the same TypeScript
 *   value; JSON columns are passed as their stored text (jsonb parses it;
 *   JSON kept as text, such as signed version documents, stays byte for byte
 *   what SQLite held).
 * - Identity sequences continue after the highest id SQLite ever gave
 *   (sqlite_sequence), so ids of deleted rows are not handed out again.
 * - The clause search index is copied from SQLite's FTS5 table; PostgreSQL
 *   computes its tsvectors as the rows arrive.
 * - Row counts are compared per table before committing.
 */
import { asc, count, eq, gt, is, isNotNull, sql, type SQL } from "drizzle-orm";
import { getTableConfig as pgTableConfig, PgTable, type PgColumn } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteTableConfig, integer, sqliteTable, SQLiteTable, text, type SQLiteColumn } from "drizzle-orm/sqlite-core";
import type pg from "pg";
import { FedalignError } from "../../src/errors.ts";
import type { Db } from "../client.ts";
import * as sqliteSchema from "../schema.ts";
import { runPostgresMigrations, withConnection } from "./migrate.ts";
import * as pgSchema from "./schema.ts";

/** pg_advisory_xact_lock key of a copy into the database ("fedcopy!"). */
const COPY_LOCK_KEY = "7378401150640437537";

/** Bind parameters per INSERT statement: PostgreSQL allows 65,535. */
const MAX_PARAMETERS = 30_000;

// SQLite objects the copy reads that are not part of db/schema.ts.
/** The FTS5 clause search index (migration 0019); rowid is its key. */
const sqliteClauseSearch = sqliteTable("clause_search", {
  rowid: integer("rowid").notNull(),
  policyId: integer("policy_id"),
  versionId: integer("version_id"),
  clauseId: text("clause_id"),
  title: text("title"),
  body: text("body"),
  examples: text("examples"),
});
const sqliteSequence = sqliteTable("sqlite_sequence", { name: text("name"), seq: integer("seq") });
const sqliteMaster = sqliteTable("sqlite_master", { type: text("type"), name: text("name") });

/** SQLite tables that are not copied as tables: bookkeeping, and FTS5's shadow tables (the index is copied from clause_search). */
function isBookkeeping(name: string): boolean {
  return name === "__drizzle_migrations" || name === "sqlite_sequence" || name.startsWith("sqlite_") || /^clause_search_(data|idx|docsize|config|content)$/.test(name);
}

export interface TableCopied {
  table: string;
  rows: number;
  ms: number;
}

export interface CopyProgress {
  table: string;
  copied: number;
  total: number;
}

export interface CopyOptions {
  /** Names the target in messages (no password). */
  label: string;
  /** Rows read from SQLite per batch. */
  batchSize?: number;
  /** Called as each table starts (copied 0), after each batch, and when it is done. */
  onProgress?: (progress: CopyProgress) => void | Promise<void>;
}

export interface CopyResult {
  tables: TableCopied[];
  migrationsApplied: string[];
  ms: number;
}

interface Source {
  name: string;
  /** SQLite table to read, and its primary key columns (keyset order). */
  table: SQLiteTable;
  key: SQLiteColumn[];
  /** Pairs of (SQLite column, PostgreSQL column) by name, generated PostgreSQL columns left out. */
  columns: { from: SQLiteColumn; to: PgColumn }[];
  pgTable: PgTable;
}

function tablesOf<T>(module: Record<string, unknown>, kind: abstract new (...args: never[]) => T): T[] {
  return Object.values(module).filter((value): value is T => is(value, kind as never));
}

/** The PostgreSQL tables, parents before children (foreign keys), ties by name. */
export function copyOrder(): PgTable[] {
  const tables = tablesOf(pgSchema as Record<string, unknown>, PgTable);
  const byName = new Map(tables.map((t) => [pgTableConfig(t).name, t]));
  const done = new Set<string>();
  const order: PgTable[] = [];
  const visit = (name: string, path: string[]) => {
    if (done.has(name)) return;
    if (path.includes(name)) throw new Error(`foreign keys form a cycle: ${[...path, name].join(" -> ")}`);
    const table = byName.get(name)!;
    for (const fk of pgTableConfig(table).foreignKeys) {
      const parent = pgTableConfig(fk.reference().foreignTable).name;
      if (parent !== name) visit(parent, [...path, name]);
    }
    done.add(name);
    order.push(table);
  };
  for (const name of [...byName.keys()].sort()) visit(name, []);
  return order;
}

function sources(): Source[] {
  const sqliteTables = new Map(tablesOf(sqliteSchema as Record<string, unknown>, SQLiteTable).map((t) => [sqliteTableConfig(t).name, t]));
  sqliteTables.set("clause_search", sqliteClauseSearch);
  return copyOrder().map((pgTable) => {
    const name = pgTableConfig(pgTable).name;
    const table = sqliteTables.get(name);
    if (!table) throw new Error(`the PostgreSQL table ${name} has no SQLite counterpart`);
    const config = sqliteTableConfig(table);
    const fromByName = new Map(config.columns.map((c) => [c.name, c]));
    const columns = pgTableConfig(pgTable)
      .columns.filter((c) => !c.generated)
      .map((to) => {
        const from = fromByName.get(to.name);
        if (!from) throw new Error(`${name}.${to.name} has no SQLite column`);
        return { from, to };
      });
    const key =
      table === sqliteClauseSearch
        ? [sqliteClauseSearch.rowid]
        : config.primaryKeys[0]?.columns ?? config.columns.filter((c) => c.primary);
    if (key.length === 0) throw new Error(`the SQLite table ${name} has no primary key to page by`);
    return { name, table, key, columns, pgTable };
  });
}

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/** A stored SQLite value as the PostgreSQL driver should receive it for the same TypeScript value. */
function convert(from: SQLiteColumn, to: PgColumn, raw: unknown): unknown {
  if (raw === null || raw === undefined) return null;
  // JSON as the text SQLite holds: jsonb parses it; JSON kept as text must keep its bytes.
  if (to.columnType === "PgJsonb" || to.columnType === "PgCustomColumn") return raw;
  return to.mapToDriverValue(from.mapFromDriverValue(raw));
}

/** Fedalign tables of the target that hold rows (tables not created yet count as empty). */
async function tablesWithRows(client: pg.ClientBase): Promise<string[]> {
  const names = copyOrder().map((t) => pgTableConfig(t).name);
  const { rows: present } = await client.query<{ name: string }>(
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY($1::text[])",
    [names],
  );
  if (present.length === 0) return [];
  const probe = present.map((p) => `SELECT ${client.escapeLiteral(p.name)} AS name WHERE EXISTS (SELECT 1 FROM ${quote(p.name)})`).join(" UNION ALL ");
  const { rows } = await client.query<{ name: string }>(probe);
  return rows.map((r) => r.name).sort();
}

function refuseNonEmpty(label: string, tables: string[]): FedalignError {
  return new FedalignError(
    `The PostgreSQL database ${label} already holds Fedalign data (rows in ${tables.join(", ")}); nothing was copied or changed. Migrate into an empty database (create one with \`createdb\`), or drop these tables' rows first if they are left from an earlier attempt.`,
  );
}

/** Reads one batch of raw SQLite values after `after` (the previous batch's last key), in key order. */
async function readBatch(db: Db, source: Source, after: unknown[] | undefined, limit: number): Promise<Record<string, unknown>[]> {
  const fields: Record<string, SQL> = {};
  for (const { from } of source.columns) fields[from.name] = sql`${from}`;
  source.key.forEach((column, i) => (fields[`\u0000key${i}`] = sql`${column}`));
  let where: SQL | undefined;
  if (after) {
    where =
      source.key.length === 1
        ? gt(source.key[0]!, sql`${after[0]}`)
        : sql`(${sql.join(source.key.map((c) => sql`${c}`), sql`, `)}) > (${sql.join(after.map((v) => sql`${v}`), sql`, `)})`;
  }
  return (await db
    .select(fields)
    .from(source.table)
    .where(where)
    .orderBy(...source.key.map((c) => asc(c)))
    .limit(limit)) as Record<string, unknown>[];
}

async function insertBatch(client: pg.ClientBase, source: Source, rows: Record<string, unknown>[]): Promise<void> {
  const width = source.columns.length;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / width));
  const columnList = source.columns.map(({ to }) => quote(to.name)).join(", ");
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const values: unknown[] = [];
    const tuples = chunk.map((row) => {
      const placeholders = source.columns.map(({ from, to }) => {
        values.push(convert(from, to, row[from.name]));
        return `$${values.length}`;
      });
      return `(${placeholders.join(", ")})`;
    });
    await client.query(`INSERT INTO ${quote(source.name)} (${columnList}) VALUES ${tuples.join(", ")}`, values);
  }
}

async function copyTable(db: Db, client: pg.ClientBase, source: Source, options: Required<Pick<CopyOptions, "batchSize">> & CopyOptions): Promise<TableCopied> {
  const started = performance.now();
  const total = (await db.select({ n: count() }).from(source.table))[0]?.n ?? 0;
  await options.onProgress?.({ table: source.name, copied: 0, total });
  let copied = 0;
  let after: unknown[] | undefined;
  for (;;) {
    const rows = await readBatch(db, source, after, options.batchSize);
    if (rows.length === 0) break;
    try {
      await insertBatch(client, source, rows);
    } catch (error) {
      const at = after ? ` after key (${after.map((v) => JSON.stringify(v)).join(", ")})` : "";
      throw new FedalignError(`Copying ${source.name} failed in the batch of rows${at}: ${(error as Error).message}.`);
    }
    const last = rows[rows.length - 1]!;
    after = source.key.map((_, i) => last[`\u0000key${i}`]);
    copied += rows.length;
    await options.onProgress?.({ table: source.name, copied, total });
    if (rows.length < options.batchSize) break;
  }
  const { rows: counted } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quote(source.name)}`);
  const inTarget = Number(counted[0]!.n);
  if (inTarget !== total || copied !== total) {
    throw new FedalignError(`Copying ${source.name} did not add up: SQLite holds ${total} rows, ${copied} were read and PostgreSQL holds ${inTarget}.`);
  }
  return { table: source.name, rows: total, ms: performance.now() - started };
}

/** Sets each identity sequence past the highest id SQLite used (its AUTOINCREMENT counter) or copied. */
async function resetSequences(db: Db, client: pg.ClientBase): Promise<void> {
  const counters = new Map(
    (await db.select().from(sqliteSequence).where(isNotNull(sqliteSequence.name))).map((r) => [r.name!, Number(r.seq ?? 0)]),
  );
  for (const table of copyOrder()) {
    const config = pgTableConfig(table);
    for (const column of config.columns.filter((c) => c.generatedIdentity)) {
      const { rows } = await client.query<{ max: string | null }>(`SELECT max(${quote(column.name)}) AS max FROM ${quote(config.name)}`);
      const next = Math.max(Number(rows[0]!.max ?? 0), counters.get(config.name) ?? 0);
      if (next > 0) await client.query("SELECT setval(pg_get_serial_sequence($1, $2), $3)", [quote(config.name), column.name, next]);
    }
  }
}

/** SQLite tables this copy would not carry over: refuse rather than leave data behind. */
async function unknownSqliteTables(db: Db): Promise<string[]> {
  const known = new Set(copyOrder().map((t) => pgTableConfig(t).name));
  const tables = await db.select({ name: sqliteMaster.name }).from(sqliteMaster).where(eq(sqliteMaster.type, "table"));
  return tables.map((t) => t.name!).filter((name) => !known.has(name) && !isBookkeeping(name)).sort();
}

/** Copies the SQLite database `db` into the PostgreSQL database of `pool` (see the module comment). */
export async function copySqliteToPostgres(db: Db, pool: pg.Pool, options: CopyOptions): Promise<CopyResult> {
  const started = performance.now();
  const settings = { batchSize: 1000, ...options };
  if (!Number.isInteger(settings.batchSize) || settings.batchSize < 1) throw new FedalignError(`The batch size must be a whole number of at least 1, not ${settings.batchSize}.`);
  const unknown = await unknownSqliteTables(db);
  if (unknown.length > 0) {
    throw new FedalignError(`The SQLite database has tables this version of Fedalign does not know (${unknown.join(", ")}); upgrade Fedalign before migrating. Nothing was copied.`);
  }
  const plan = sources();
  const early = await withConnection(pool, tablesWithRows);
  if (early.length > 0) throw refuseNonEmpty(options.label, early);
  const { applied } = await runPostgresMigrations(pool, options.label);

  const client = await pool.connect();
  // One snapshot of SQLite for the whole copy: a read transaction begun on
  // the raw connection, which this flow keeps to itself (exclusive) until the
  // copy ends, so the reads below run in it and nobody else's writes do.
  return await db.$client.exclusive(async () => {
    db.$client.raw.exec("BEGIN");
    try {
      await client.query("BEGIN");
      try {
        await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [COPY_LOCK_KEY]);
        const late = await tablesWithRows(client);
        if (late.length > 0) throw refuseNonEmpty(options.label, late);
        const tables: TableCopied[] = [];
        for (const source of plan) tables.push(await copyTable(db, client, source, settings));
        await resetSequences(db, client);
        await client.query("COMMIT");
        return { tables, migrationsApplied: applied, ms: performance.now() - started };
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      }
    } finally {
      if (db.$client.raw.inTransaction) db.$client.raw.exec("ROLLBACK");
      client.release();
    }
  });
}
