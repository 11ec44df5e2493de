/** Remote actors this instance has seen, as the federation layer cached them (federation/entities/actor.ts writes them). */
import { eq } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { federatedActors } from "../../db/schema.ts";

export type FederatedActor = typeof federatedActors.$inferSelect;

export function findFederatedActor(db: Db, iri: string): FederatedActor | undefined {
  return db.select().from(federatedActors).where(eq(federatedActors.iri, iri)).get();
}
