/**
 * Turns a received actor document into a `federated_actors` row (idempotent,
 * keyed by the actor IRI), and a row back into a delivery recipient.
 */
import { isActor, type Actor, type Recipient } from "@fedify/vocab";
import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import type { FedCtx } from "./context.ts";
import { federatedActors } from "../db/schema.ts";

export type FederatedActor = typeof federatedActors.$inferSelect;

function actorType(actor: Actor): string {
  return actor.constructor.name;
}

/**
 * `@username@host` of the actor's own origin. Taken from the document rather
 * than a WebFinger round trip, which would cost a request per activity.
 */
function displayHandle(actor: Actor): string | null {
  const username = actor.preferredUsername?.toString();
  return username && actor.id ? `@${username}@${actor.id.host}` : null;
}

export function persistActor(db: Db, actor: Actor): FederatedActor | undefined {
  if (actor.id == null || actor.inboxId == null) return undefined;
  const handle = displayHandle(actor);
  const values = {
    iri: actor.id.href,
    type: actorType(actor),
    handle,
    name: actor.name?.toString() ?? actor.preferredUsername?.toString() ?? null,
    inboxUrl: actor.inboxId.href,
    sharedInboxUrl: actor.endpoints?.sharedInbox?.href ?? null,
    url: actor.url instanceof URL ? actor.url.href : (actor.url?.href?.href ?? null),
    fetchedAt: new Date(),
  };
  return db
    .insert(federatedActors)
    .values(values)
    .onConflictDoUpdate({ target: federatedActors.iri, set: values })
    .returning()
    .get();
}

export function findFederatedActor(db: Db, iri: string): FederatedActor | undefined {
  return db.select().from(federatedActors).where(eq(federatedActors.iri, iri)).get();
}

/** How long a cached actor document is used before it is fetched again. */
export const ACTOR_CACHE_MS = 24 * 60 * 60 * 1000;

/**
 * The actor behind an activity: our cached copy when it is recent, otherwise
 * fetched from its own origin (the signature check has already proved the
 * sender controls that actor, so the cache only saves the round trip and the
 * JSON-LD processing, which dominate the cost of an incoming activity).
 */
export async function resolveSender(
  ctx: FedCtx,
  iri: URL,
  fetchActor: () => Promise<unknown>,
): Promise<FederatedActor | undefined> {
  const cached = findFederatedActor(ctx.data.db, iri.href);
  if (cached && Date.now() - cached.fetchedAt.getTime() < ACTOR_CACHE_MS) return cached;
  const actor = await fetchActor();
  if (!isActor(actor) || actor.id?.href !== iri.href) return undefined;
  return persistActor(ctx.data.db, actor);
}

export function toRecipient(row: FederatedActor): Recipient {
  return {
    id: new URL(row.iri),
    inboxId: new URL(row.inboxUrl),
    endpoints: row.sharedInboxUrl ? { sharedInbox: new URL(row.sharedInboxUrl) } : null,
  };
}
