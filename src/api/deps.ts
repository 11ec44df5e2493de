import type { Db } from "../../db/client.ts";
import type { AppContext } from "../app/context.ts";

/** What API routes need: the database for reads, and what use cases (src/app/) run with. */
export interface ApiDeps {
  db: Db;
  origin: string;
  context: AppContext;
}
