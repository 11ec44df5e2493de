/**
 * Entity module for remote actors (Hollo style): `persistActor` turns a
 * received actor document into a `federated_actors` row (idempotent, keyed
 * by the actor IRI), and `toRecipient` a row back into a delivery recipient.
 *
 * An actor is stored only when its inbox (and shared inbox) are on its own
 * origin and not on a private address (unless the operator allows those),
 * and its strings are within REMOTE_LIMITS: otherwise it is refused, logged
 * once at info, and nothing already stored changes. Deliveries are checked
 * again after DNS when they leave (./delivery-guard.ts).
 */
import { isActor, type Actor, type Recipient } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { first, type Db } from "../../db/client.ts";
import type { FedCtx } from "../context.ts";
import { federatedActors } from "../../db/schema.ts";
import { REMOTE_LIMITS, overLimit } from "../../src/limits.ts";
import { isPrivateHost } from "../addresses.ts";
import { lookupActor } from "../lookup.ts";

const logger = getLogger(["fedalign", "federation", "actors"]);

import { findFederatedActor, type FederatedActor } from "../../src/actors/remote-actors.ts";

export { findFederatedActor, type FederatedActor };

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

function toValues(actor: Actor, id: URL, inbox: URL) {
  return {
    iri: id.href,
    type: actorType(actor),
    handle: displayHandle(actor),
    name: actor.name?.toString() ?? actor.preferredUsername?.toString() ?? null,
    // Shown in the community directory only; a longer one is cut rather than the actor refused.
    summary: actor.summary?.toString().slice(0, REMOTE_LIMITS.summary) ?? null,
    inboxUrl: inbox.href,
    sharedInboxUrl: actor.endpoints?.sharedInbox?.href ?? null,
    url: actor.url instanceof URL ? actor.url.href : (actor.url?.href?.href ?? null),
    fetchedAt: new Date(),
  };
}

/** Why an actor's row must not be stored, or undefined. */
function refusal(values: ReturnType<typeof toValues>, id: URL, allowPrivateAddress: boolean): string | undefined {
  for (const [field, inbox] of [["inbox", values.inboxUrl], ["shared inbox", values.sharedInboxUrl]] as const) {
    if (inbox === null) continue;
    const url = new URL(inbox);
    if (url.origin !== id.origin) return `its ${field} ${inbox} is not on its origin ${id.origin}`;
    if (!allowPrivateAddress && isPrivateHost(url.host)) return `its ${field} ${inbox} is on a private address`;
  }
  return (
    overLimit("its name", values.name, REMOTE_LIMITS.name) ??
    overLimit("its handle", values.handle, REMOTE_LIMITS.name) ??
    overLimit("its profile URL", values.url, REMOTE_LIMITS.url) ??
    overLimit("its inbox URL", values.inboxUrl, REMOTE_LIMITS.url)
  );
}

export async function persistActor(data: { db: Db; allowPrivateAddress: boolean }, actor: Actor): Promise<FederatedActor | undefined> {
  if (actor.id == null || actor.inboxId == null) return undefined;
  const values = toValues(actor, actor.id, actor.inboxId);
  const reason = refusal(values, actor.id, data.allowPrivateAddress);
  if (reason) {
    logger.info("Refused actor {actor}: {reason}.", { actor: actor.id.href, reason });
    return undefined;
  }
  return (await first(
    data.db
      .insert(federatedActors)
      .values(values)
      .onConflictDoUpdate({ target: federatedActors.iri, set: values })
      .returning(),
  ))!;
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
  const cached = await findFederatedActor(ctx.data.db, iri.href);
  if (cached && Date.now() - cached.fetchedAt.getTime() < ACTOR_CACHE_MS) return cached;
  const actor = await fetchActor();
  if (!isActor(actor) || actor.id?.href !== iri.href) return undefined;
  return await persistActor(ctx.data, actor);
}

/**
 * A delivery recipient by IRI, for effects carried out later: our cached
 * row when we have one, otherwise looked up on its origin and cached.
 * Throws when it cannot be found (the outbox dispatcher retries).
 */
export async function recipientByIri(ctx: FedCtx, iri: string): Promise<Recipient> {
  const cached = await findFederatedActor(ctx.data.db, iri);
  if (cached) return toRecipient(cached);
  const row = await persistActor(ctx.data, await lookupActor(ctx, iri));
  if (!row) throw new Error(`${iri} cannot receive activities: its inbox is not on its own server`);
  return toRecipient(row);
}

export function toRecipient(row: FederatedActor): Recipient {
  return {
    id: new URL(row.iri),
    inboxId: new URL(row.inboxUrl),
    endpoints: row.sharedInboxUrl ? { sharedInbox: new URL(row.sharedInboxUrl) } : null,
  };
}
