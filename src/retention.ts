/**
 * Retention for rows any remote actor can make this instance create. Fedify's
 * caches in fedify_kv expire on their own (federation/kv-store.ts); here go
 * the rows of our own tables: remembered early Undos past their TTL, and
 * cached remote actors that nothing here refers to any more and that were not
 * seen for ACTOR_RETENTION_MS. Actors a follow, policy, annotation, offer,
 * proposal or vote refers to are kept: they are shown with those rows.
 */
import { lte, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { federatedActors, undoneFollows } from "../db/schema.ts";

export const ACTOR_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

export interface Pruned {
  undoneFollows: number;
  actors: number;
}

export async function pruneRemoteRows(db: Db, now = new Date()): Promise<Pruned> {
  return await db.transaction(async (tx) => {
    const undone = (await tx.delete(undoneFollows).where(lte(undoneFollows.expiresAt, now)).returning({ id: undoneFollows.id })).length;
    const staleBefore = now.getTime() - ACTOR_RETENTION_MS;
    const actors = (await tx
      .delete(federatedActors)
      .where(
        sql`${federatedActors.fetchedAt} <= ${staleBefore}
          AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.follower_iri = ${federatedActors.iri} OR f.followee_iri = ${federatedActors.iri})
          AND NOT EXISTS (SELECT 1 FROM policies p WHERE p.owner_iri = ${federatedActors.iri})
          AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.author_iri = ${federatedActors.iri})
          AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.actor_iri = ${federatedActors.iri})
          AND NOT EXISTS (SELECT 1 FROM remote_proposals r WHERE r.owner_iri = ${federatedActors.iri})
          AND NOT EXISTS (SELECT 1 FROM partner_votes v WHERE v.actor_iri = ${federatedActors.iri})`,
      )
      .returning({ id: federatedActors.id })).length;
    return { undoneFollows: undone, actors };
  });
}
