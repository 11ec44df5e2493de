/** Remote actors this instance has seen, as the federation layer cached them (federation/entities/actor.ts writes them). */
import { and, eq, not, or, sql, type SQL } from "drizzle-orm";
import { countRows, first, type Db } from "../../db/client.ts";
import { federatedActors, policies } from "../../db/schema.ts";

export type FederatedActor = typeof federatedActors.$inferSelect;

export async function findFederatedActor(db: Db, iri: string): Promise<FederatedActor | undefined> {
  return first(db.select().from(federatedActors).where(eq(federatedActors.iri, iri)));
}

export async function findFederatedActorById(db: Db, id: number): Promise<FederatedActor | undefined> {
  return first(db.select().from(federatedActors).where(eq(federatedActors.id, id)));
}

export interface RemoteCommunityListing extends FederatedActor {
  /** Policies of this community that this instance holds (followed or mirrored). */
  policies: number;
}

/** Remote communities (Group actors not on `localOrigin`) whose handle, name or summary contains `pattern` (a LIKE pattern). */
function remoteCommunityFilter(localOrigin: string, pattern: string | undefined): SQL | undefined {
  const remoteGroup = and(eq(federatedActors.type, "Group"), not(sql`${federatedActors.iri} LIKE ${`${localOrigin}/%`}`));
  if (!pattern) return remoteGroup;
  return and(
    remoteGroup,
    or(
      sql`${federatedActors.handle} LIKE ${pattern} ESCAPE '\\'`,
      sql`${federatedActors.name} LIKE ${pattern} ESCAPE '\\'`,
      sql`${federatedActors.summary} LIKE ${pattern} ESCAPE '\\'`,
    ),
  );
}

/** Known remote communities, by name, with how many of their policies this instance holds. */
export async function searchRemoteCommunities(
  db: Db,
  localOrigin: string,
  pattern: string | undefined,
  page: { offset: number; limit: number },
): Promise<{ items: RemoteCommunityListing[]; total: number }> {
  const where = remoteCommunityFilter(localOrigin, pattern);
  const total = await countRows(db, federatedActors, where);
  if (page.limit <= 0) return { items: [], total };
  const items = await db
    .select({
      id: federatedActors.id,
      iri: federatedActors.iri,
      type: federatedActors.type,
      handle: federatedActors.handle,
      name: federatedActors.name,
      summary: federatedActors.summary,
      inboxUrl: federatedActors.inboxUrl,
      sharedInboxUrl: federatedActors.sharedInboxUrl,
      url: federatedActors.url,
      fetchedAt: federatedActors.fetchedAt,
      policies: sql<number>`(SELECT count(*) FROM ${policies} WHERE ${policies.ownerIri} = ${federatedActors.iri})`,
    })
    .from(federatedActors)
    .where(where)
    .orderBy(sql`lower(coalesce(${federatedActors.name}, ${federatedActors.handle}, ${federatedActors.iri}))`)
    .limit(page.limit)
    .offset(page.offset);
  return { items, total };
}
