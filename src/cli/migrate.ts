/**
 * `fedalign admin migrate --to postgres://…`: copies the instance's SQLite
 * database into an empty PostgreSQL database (db/postgres/copy-from-sqlite.ts
 * does the work; this is the command's edge: its input, progress and summary).
 */
import { z } from "zod";
import { FedalignError, InvalidInputError } from "../errors.ts";
import { printJson, printLine, printTable } from "./output.ts";
import { startProgress, type Progress } from "./progress.ts";

/** Tables at least this big get a progress bar (or progress lines when piped). */
const PROGRESS_FROM_ROWS = 5000;

const targetSchema = z
  .string()
  .refine((value) => {
    try {
      return ["postgres:", "postgresql:"].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  });

const batchSchema = z.coerce.number().int().min(1).max(100_000);

export interface MigrateOptions {
  to: string;
  data?: string;
  batchSize?: string;
  json?: boolean;
}

export async function runMigrate(options: MigrateOptions): Promise<void> {
  if (!targetSchema.safeParse(options.to).success) {
    throw new InvalidInputError(`--to must be a PostgreSQL connection string such as postgres://user@host:5432/fedalign, not "${options.to}".`);
  }
  const batch = batchSchema.safeParse(options.batchSize ?? 1000);
  if (!batch.success) throw new InvalidInputError(`--batch-size must be a whole number from 1 to 100000, not "${options.batchSize}".`);
  const [{ default: pg }, { closeDatabase }, { openInstanceDatabase }, { resolveDataDir }, { describeDatabaseUrl }, { copySqliteToPostgres }] = await Promise.all([
    import("pg"),
    import("../../db/client.ts"),
    import("../../db/open.ts"),
    import("../config.ts"),
    import("../../db/postgres/migrate.ts"),
    import("../../db/postgres/copy-from-sqlite.ts"),
  ]);
  const label = describeDatabaseUrl(options.to);
  const db = openInstanceDatabase(resolveDataDir(options.data), "must-exist");
  const pool = new pg.Pool({ connectionString: options.to, max: 2 });
  pool.on("error", () => undefined);
  let progress: Progress | undefined;
  try {
    try {
      await pool.query("SELECT 1");
    } catch (error) {
      throw new FedalignError(`Cannot connect to PostgreSQL at ${label}: ${(error as Error).message}. Check the address, the database name and the role's password; nothing was copied.`);
    }
    let current = "";
    const result = await copySqliteToPostgres(db, pool, {
      label,
      batchSize: batch.data,
      onProgress: async ({ table, copied, total }) => {
        if (table !== current) {
          progress?.stop();
          progress = undefined;
          current = table;
          if (total >= PROGRESS_FROM_ROWS && !options.json) {
            progress = await startProgress({ label: table, unit: "rows", total });
          }
        }
        progress?.update({ value: copied });
      },
    });
    progress?.stop();
    progress = undefined;
    const rows = result.tables.reduce((sum, t) => sum + t.rows, 0);
    if (options.json) {
      printJson({ target: label, tables: result.tables.map((t) => ({ table: t.table, rows: t.rows })), rows, seconds: Number((result.ms / 1000).toFixed(2)) });
      return;
    }
    const copied = result.tables.filter((t) => t.rows > 0);
    printTable(["TABLE", "ROWS", "SECONDS"], copied.map((t) => [t.table, String(t.rows), (t.ms / 1000).toFixed(2)]));
    printLine(
      `Copied ${rows} rows (${copied.length} tables with rows, ${result.tables.length - copied.length} empty) to ${label} in ${(result.ms / 1000).toFixed(1)} s; row counts match.`,
    );
  } finally {
    progress?.stop();
    closeDatabase(db);
    await pool.end();
  }
}
