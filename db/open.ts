/**
 * Opens the database of a data directory, creating the directory when the
 * caller may, and migrating it. Kept apart from the server so that admin
 * commands and scripts do not load the federation stack.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { FedalignError } from "../src/errors.ts";
import { closeDatabase, databasePath, openDatabase, type Db } from "./client.ts";
import { runMigrations } from "./migrate.ts";

export type DataDirMode = "create" | "must-exist";

export function openInstanceDatabase(dataDir: string, mode: DataDirMode): Db {
  if (!existsSync(dataDir)) {
    if (mode === "must-exist") {
      throw new FedalignError(
        `No Fedalign data directory at ${dataDir}: start the server once with \`fedalign serve --data ${dataDir}\`, or pass the right --data.`,
      );
    }
    if (!existsSync(dirname(dataDir))) {
      throw new FedalignError(`Cannot create the data directory ${dataDir}: its parent does not exist. Create it with \`mkdir -p ${dataDir}\`.`);
    }
    mkdirSync(dataDir);
  }
  const file = databasePath(dataDir);
  if (mode === "must-exist" && !existsSync(file)) {
    throw new FedalignError(
      `No Fedalign database in ${dataDir}: start the server once with \`fedalign serve --data ${dataDir}\`, or pass the right --data.`,
    );
  }
  let db: Db;
  try {
    db = openDatabase(file);
  } catch (error) {
    throw new FedalignError(`Cannot open the database ${file}: ${(error as Error).message}. Check the path and its permissions.`);
  }
  try {
    runMigrations(db, file);
  } catch (error) {
    closeDatabase(db);
    throw error;
  }
  return db;
}

