/**
 * Issue 19: one schema, two dialects. db/schema.ts (SQLite) is the source of
 * truth and db/postgres/schema.ts must say the same thing in PostgreSQL's
 * terms: the same tables, columns (names, nullability, defaults, TypeScript
 * value types, enum values), primary keys, unique constraints, indexes and
 * foreign keys. The only differences allowed are the type mappings listed in
 * COLUMN_TYPE_MAPPINGS, SQL_DEFAULT_MAPPINGS and POSTGRES_ONLY_TABLES; any
 * other difference fails with a line naming the table, column and both sides.
 */
import { is, SQL } from "drizzle-orm";
import { getTableConfig as pgTableConfig, PgDialect, PgTable } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteTableConfig, SQLiteSyncDialect, SQLiteTable } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as pgSchema from "../db/postgres/schema.ts";
import * as sqliteSchema from "../db/schema.ts";

/**
 * Column types: each SQLite column type (drizzle's columnType) and the
 * PostgreSQL types it may become. The TypeScript value type (drizzle's
 * dataType) must be equal on both sides, except where `dataType` says what
 * the PostgreSQL side may have instead.
 */
const COLUMN_TYPE_MAPPINGS: Record<string, { pg: string[]; why: string; dataType?: Record<string, string> }> = {
  SQLiteInteger: { pg: ["PgInteger", "PgBigInt53"], why: "integers; epoch milliseconds and high-churn ids as bigint read as numbers" },
  SQLiteText: { pg: ["PgText"], why: "text, enums included (checked as text with the same enum values)" },
  SQLiteTimestamp: { pg: ["PgTimestamp"], why: "epoch milliseconds become timestamp with time zone, read as Date on both" },
  SQLiteBoolean: { pg: ["PgBoolean"], why: "0/1 integers become boolean" },
  SQLiteTextJson: {
    pg: ["PgJsonb", "PgCustomColumn"],
    why: "JSON becomes jsonb, or text holding JSON (jsonText) where the exact bytes must survive (signed documents, served records)",
    dataType: { custom: "jsonText: the same values (JSON.stringify / JSON.parse) as SQLite's JSON text" },
  },
};

/** SQL defaults that mean the same on both sides (SQLite's rendering -> PostgreSQL's). */
const SQL_DEFAULT_MAPPINGS: Record<string, string> = {
  "(unixepoch('subsec') * 1000)": "now()",
};

/** Tables only the PostgreSQL schema declares, and why. */
const POSTGRES_ONLY_TABLES: Record<string, string> = {
  clause_search: "the clause search index: an FTS5 virtual table made by hand-written migration 0019 on SQLite (outside Drizzle's schema), a tsvector with a GIN index here",
};

type AnyColumn = {
  name: string;
  notNull: boolean;
  hasDefault: boolean;
  default: unknown;
  primary: boolean;
  isUnique: boolean;
  uniqueName?: string;
  dataType: string;
  columnType: string;
  enumValues?: readonly string[];
  autoIncrement?: boolean;
  generatedIdentity?: { type: string };
};

function tablesOf<T>(module: Record<string, unknown>, kind: new (...args: never[]) => T): Map<string, T> {
  const tables = new Map<string, T>();
  for (const value of Object.values(module)) {
    if (is(value, kind as never)) tables.set(((value as unknown as Record<symbol, string>)[Symbol.for("drizzle:Name")]) ?? "", value as T);
  }
  return tables;
}

const sqliteDialect = new SQLiteSyncDialect();
const pgDialect = new PgDialect();

/** A default as comparable text: SQL rendered by its dialect, values as JSON. */
function renderDefault(column: AnyColumn, dialect: "sqlite" | "pg"): string | undefined {
  if (!column.hasDefault || column.default === undefined) return undefined;
  const value = column.default;
  if (is(value, SQL)) return `sql:${(dialect === "sqlite" ? sqliteDialect : pgDialect).sqlToQuery(value).sql}`;
  return `value:${JSON.stringify(value)}`;
}

interface TableShape {
  columns: Map<string, AnyColumn>;
  primaryKeys: string[];
  uniques: string[];
  indexes: string[];
  foreignKeys: string[];
}

function names(columns: readonly { name?: string }[]): string {
  return columns.map((c) => c.name ?? "(expression)").join(", ");
}

/** What both dialects' getTableConfig return, as far as the comparison reads it. */
type AnyTableConfig = ReturnType<typeof sqliteTableConfig> | ReturnType<typeof pgTableConfig>;

/** One table's shape, from either dialect's config; `nameOf` names a referenced table in the same dialect. */
function shapeOf(config: AnyTableConfig, nameOf: (table: never) => string): TableShape {
  const foreignKeys: { reference(): { columns: { name?: string }[]; foreignTable: unknown; foreignColumns: { name?: string }[] }; onDelete?: string; onUpdate?: string }[] =
    config.foreignKeys;
  return {
    columns: new Map(config.columns.map((c) => [c.name, c as unknown as AnyColumn])),
    primaryKeys: config.primaryKeys.map((pk) => `(${names(pk.columns)})`),
    uniques: [
      ...config.columns.filter((c) => c.isUnique).map((c) => `${c.uniqueName} (${c.name})`),
      ...config.uniqueConstraints.map((u) => `${u.getName()} (${names(u.columns)})`),
    ].sort(),
    indexes: config.indexes.map((i) => `${i.config.unique ? "unique " : ""}index ${i.config.name} (${names(i.config.columns as { name?: string }[])})`).sort(),
    foreignKeys: foreignKeys
      .map((fk) => {
        const ref = fk.reference();
        return `(${names(ref.columns)}) -> ${nameOf(ref.foreignTable as never)} (${names(ref.foreignColumns)}) on delete ${fk.onDelete ?? "no action"} on update ${fk.onUpdate ?? "no action"}`;
      })
      .sort(),
  };
}

function sqliteShape(table: SQLiteTable): TableShape {
  return shapeOf(sqliteTableConfig(table), (foreign: SQLiteTable) => sqliteTableConfig(foreign).name);
}

function pgShape(table: PgTable): TableShape {
  return shapeOf(pgTableConfig(table), (foreign: PgTable) => pgTableConfig(foreign).name);
}

function compareColumn(table: string, s: AnyColumn, p: AnyColumn): string[] {
  const at = `${table}.${s.name}`;
  const problems: string[] = [];
  const mapping = COLUMN_TYPE_MAPPINGS[s.columnType];
  if (!mapping) problems.push(`${at}: SQLite column type ${s.columnType} has no entry in COLUMN_TYPE_MAPPINGS`);
  else if (!mapping.pg.includes(p.columnType)) {
    problems.push(`${at}: SQLite ${s.columnType} may become ${mapping.pg.join(" or ")} on PostgreSQL, not ${p.columnType}`);
  }
  if (s.dataType !== p.dataType && !(mapping?.dataType && p.dataType in mapping.dataType)) {
    problems.push(`${at}: TypeScript data type is ${s.dataType} on SQLite but ${p.dataType} on PostgreSQL`);
  }
  if (s.notNull !== p.notNull) problems.push(`${at}: ${s.notNull ? "NOT NULL" : "nullable"} on SQLite but ${p.notNull ? "NOT NULL" : "nullable"} on PostgreSQL`);
  if (s.primary !== p.primary) problems.push(`${at}: ${s.primary ? "is" : "is not"} the primary key on SQLite but ${p.primary ? "is" : "is not"} on PostgreSQL`);
  const autoIncrement = Boolean(s.autoIncrement);
  const identity = p.generatedIdentity?.type === "byDefault";
  if (autoIncrement !== identity) {
    problems.push(
      `${at}: ${autoIncrement ? "AUTOINCREMENT" : "not AUTOINCREMENT"} on SQLite but ${identity ? "an identity (by default)" : "no identity by default"} on PostgreSQL (copied ids need GENERATED BY DEFAULT)`,
    );
  }
  if (JSON.stringify(s.enumValues ?? null) !== JSON.stringify(p.enumValues ?? null)) {
    problems.push(`${at}: enum values ${JSON.stringify(s.enumValues ?? null)} on SQLite but ${JSON.stringify(p.enumValues ?? null)} on PostgreSQL`);
  }
  const sd = renderDefault(s, "sqlite");
  const pd = renderDefault(p, "pg");
  const expected = sd?.startsWith("sql:") ? (SQL_DEFAULT_MAPPINGS[sd.slice(4)] !== undefined ? `sql:${SQL_DEFAULT_MAPPINGS[sd.slice(4)]}` : undefined) : sd;
  if (sd?.startsWith("sql:") && expected === undefined) problems.push(`${at}: SQLite default ${sd.slice(4)} has no entry in SQL_DEFAULT_MAPPINGS`);
  else if (expected !== pd) problems.push(`${at}: default ${sd ?? "none"} on SQLite but ${pd ?? "none"} on PostgreSQL`);
  return problems;
}

function compareList(table: string, what: string, s: string[], p: string[]): string[] {
  const problems: string[] = [];
  for (const item of s) if (!p.includes(item)) problems.push(`${table}: ${what} ${item} is on SQLite but not on PostgreSQL`);
  for (const item of p) if (!s.includes(item)) problems.push(`${table}: ${what} ${item} is on PostgreSQL but not on SQLite`);
  return problems;
}

/** Every difference between the two schemas beyond the allowed mappings, one line each. */
export function schemaDifferences(sqlite: Record<string, unknown>, pg: Record<string, unknown>): string[] {
  const sqliteTables = tablesOf(sqlite, SQLiteTable);
  const pgTables = tablesOf(pg, PgTable);
  const problems: string[] = [];
  for (const name of sqliteTables.keys()) if (!pgTables.has(name)) problems.push(`table ${name} is on SQLite but not on PostgreSQL`);
  for (const name of pgTables.keys()) {
    if (!sqliteTables.has(name) && !(name in POSTGRES_ONLY_TABLES)) problems.push(`table ${name} is on PostgreSQL but not on SQLite`);
  }
  for (const [name, sqliteTable] of sqliteTables) {
    const pgTable = pgTables.get(name);
    if (!pgTable) continue;
    const s = sqliteShape(sqliteTable);
    const p = pgShape(pgTable);
    for (const column of s.columns.keys()) if (!p.columns.has(column)) problems.push(`${name}.${column} is on SQLite but not on PostgreSQL`);
    for (const column of p.columns.keys()) if (!s.columns.has(column)) problems.push(`${name}.${column} is on PostgreSQL but not on SQLite`);
    const sqliteOrder = [...s.columns.keys()].filter((c) => p.columns.has(c));
    const pgOrder = [...p.columns.keys()].filter((c) => s.columns.has(c));
    if (sqliteOrder.join() !== pgOrder.join()) problems.push(`${name}: columns in order ${sqliteOrder.join(", ")} on SQLite but ${pgOrder.join(", ")} on PostgreSQL`);
    for (const [column, sc] of s.columns) {
      const pc = p.columns.get(column);
      if (pc) problems.push(...compareColumn(name, sc, pc));
    }
    problems.push(...compareList(name, "primary key", s.primaryKeys, p.primaryKeys));
    problems.push(...compareList(name, "unique constraint", s.uniques, p.uniques));
    problems.push(...compareList(name, "", s.indexes, p.indexes).map((line) => line.replace(":  ", ": ")));
    problems.push(...compareList(name, "foreign key", s.foreignKeys, p.foreignKeys));
  }
  return problems;
}

describe("the PostgreSQL schema follows the SQLite schema", () => {
  it("has the same tables, columns, keys, constraints and indexes, up to the listed type mappings", () => {
    expect(schemaDifferences(sqliteSchema, pgSchema)).toEqual([]);
  });

  it("compares something: every SQLite table is checked, with its columns, indexes and foreign keys", () => {
    const tables = tablesOf(sqliteSchema, SQLiteTable);
    expect(tables.size).toBeGreaterThanOrEqual(38);
    expect(tablesOf(pgSchema, PgTable).size).toBe(tables.size + Object.keys(POSTGRES_ONLY_TABLES).length);
  });

  it("names a drifted column, index and foreign key with both sides", async () => {
    const { pgTable, integer, text, index, timestamp } = await import("drizzle-orm/pg-core");
    // A PostgreSQL schema where undone_follows lost an index, made a column nullable and changed a type.
    const drifted = {
      ...pgSchema,
      undoneFollows: pgTable("undone_follows", {
        id: integer("id").primaryKey().generatedByDefaultAsIdentity(),
        followIri: text("follow_iri"),
        followerIri: integer("follower_iri").notNull(),
        expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
      }, (t) => [index("undone_follows_expiry").on(t.expiresAt)]),
    };
    expect(schemaDifferences(sqliteSchema, drifted)).toEqual([
      "undone_follows.follow_iri: NOT NULL on SQLite but nullable on PostgreSQL",
      "undone_follows.follower_iri: SQLite SQLiteText may become PgText on PostgreSQL, not PgInteger",
      "undone_follows.follower_iri: TypeScript data type is string on SQLite but number on PostgreSQL",
      "undone_follows: unique index undone_follows_follow (follow_iri, follower_iri) is on SQLite but not on PostgreSQL",
    ]);
  });
});
