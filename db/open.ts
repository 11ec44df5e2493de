/**
 * Opens the database of a data directory, creating the directory when the
 * caller may, and migrating it. Kept apart from the server so that admin
 * commands and scripts do not load the federation stack.
 *
 * The directory holds actors' private keys and password hashes, so it is
 * kept to its owner: the directory 0700, the database and its -wal and -shm
 * files 0600 (SQLite gives those the database file's mode when it creates
 * them, so the file is created 0600 before SQLite opens it). Modes that are
 * wider, from an older version or a `mkdir` by hand, are narrowed at open.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { getLogger } from "@logtape/logtape";
import { FedalignError } from "../src/errors.ts";
import { closeDatabase, databasePath, openDatabase, type Db } from "./client.ts";
import { runMigrations } from "./migrate.ts";

const logger = getLogger(["fedalign", "db"]);
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** Narrows a file's mode to `mode` when it grants more (on systems with POSIX modes; Windows has none). */
function keepPrivate(path: string, mode: number): void {
  if (process.platform === "win32" || !existsSync(path)) return;
  const current = statSync(path).mode & 0o777;
  if ((current & ~mode) === 0) return;
  chmodSync(path, mode);
  logger.info("Narrowed the mode of {path} from {from} to {to}: it holds private keys and password hashes.", {
    path,
    from: current.toString(8),
    to: mode.toString(8),
  });
}

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
    mkdirSync(dataDir, { mode: DIR_MODE });
  }
  const file = databasePath(dataDir);
  if (mode === "must-exist" && !existsSync(file)) {
    throw new FedalignError(
      `No Fedalign database in ${dataDir}: start the server once with \`fedalign serve --data ${dataDir}\`, or pass the right --data.`,
    );
  }
  let db: Db;
  try {
    keepPrivate(dataDir, DIR_MODE);
    if (!existsSync(file)) closeSync(openSync(file, "a", FILE_MODE));
    keepPrivate(file, FILE_MODE);
    db = openDatabase(file);
    for (const companion of [`${file}-wal`, `${file}-shm`]) keepPrivate(companion, FILE_MODE);
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

