import type { Federation } from "@fedify/fedify";
import type { Db } from "../../db/client.ts";
import type { FedCtx, InstanceData } from "../../federation/context.ts";
import type { AppContext } from "../app/context.ts";

/** What API routes need: the database and a way to act through Fedify. */
export interface ApiDeps {
  db: Db;
  federation: Federation<InstanceData>;
  data: InstanceData;
  origin: string;
  /** What use cases (src/app/) run with. */
  context: AppContext;
}

export function fedContext(deps: ApiDeps): FedCtx {
  return deps.federation.createContext(new URL(deps.origin), deps.data);
}
