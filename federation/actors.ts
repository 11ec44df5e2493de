/**
 * Actor documents: the instance is an `Application`, communities are
 * `Group`s and users are `Person`s, all under /actors/{identifier}, each
 * with an RSA key (HTTP signatures) and an Ed25519 multikey (proofs).
 */
import { Temporal } from "./temporal.ts";
import type { Federation, RequestContext } from "@fedify/fedify";
import { Application, Endpoints, Group, Person, Update } from "@fedify/vocab";
import { eq } from "drizzle-orm";
import { actorKeys } from "../db/schema.ts";
import { findActorByIdentifier, type LocalActor } from "../src/actors/local-actors.ts";
import { importKeyPair } from "../src/actors/keys.ts";
import { textToHtml } from "../src/text.ts";
import { PUBLIC_AUDIENCE } from "../src/policies/version-document.ts";
import type { FedCtx, InstanceData } from "./context.ts";
import { newActivityIri } from "./outgoing.ts";
import { acceptedFollowersOf } from "./policy-activities.ts";

export const ACTOR_PATH = "/actors/{identifier}";

/** RSA first: Fedify signs HTTP requests with the first RSA key it finds. */
export async function loadKeyPairs(ctx: FedCtx, actor: LocalActor): Promise<CryptoKeyPair[]> {
  const cached = ctx.data.keyPairCache.get(actor.id);
  if (cached) return cached;
  const rows = await ctx.data.db.select().from(actorKeys).where(eq(actorKeys.actorId, actor.id));
  rows.sort((a, b) => (a.algorithm === b.algorithm ? 0 : a.algorithm === "RSASSA-PKCS1-v1_5" ? -1 : 1));
  const pairs = await Promise.all(rows.map(importKeyPair));
  ctx.data.keyPairCache.set(actor.id, pairs);
  return pairs;
}

function actorClass(actor: LocalActor) {
  switch (actor.kind) {
    case "instance":
      return Application;
    case "community":
      return Group;
    case "user":
      return Person;
  }
}

async function dispatchActor(ctx: RequestContext<InstanceData>, identifier: string) {
  return await toActor(ctx, identifier);
}

/** A local actor as an ActivityPub object (for its document and for `Update`s about it). */
export async function toActor(ctx: FedCtx, identifier: string) {
  const actor = await findActorByIdentifier(ctx.data.db, identifier);
  if (!actor) return null;
  const keys = await ctx.getActorKeyPairs(identifier);
  const ActorClass = actorClass(actor);
  return new ActorClass({
    id: ctx.getActorUri(identifier),
    preferredUsername: identifier,
    name: actor.name,
    summary: actor.summary ? textToHtml(actor.summary) : null,
    url: ctx.getActorUri(identifier),
    published: Temporal.Instant.fromEpochMilliseconds(actor.createdAt.getTime()),
    manuallyApprovesFollowers: actor.manuallyApprovesFollowers,
    inbox: ctx.getInboxUri(identifier),
    outbox: ctx.getOutboxUri(identifier),
    followers: ctx.getFollowersUri(identifier),
    following: ctx.getFollowingUri(identifier),
    endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
    publicKey: keys[0]?.cryptographicKey,
    assertionMethods: keys.map((key) => key.multikey),
  });
}

/**
 * Tells the actor's followers that its profile changed (name, summary,
 * follower approval), so their copies stay current. Mastodon and Fedalign
 * both refresh a cached actor on `Update`.
 */
export async function sendActorUpdate(ctx: FedCtx, identifier: string): Promise<void> {
  const actor = await toActor(ctx, identifier);
  const recipients = await acceptedFollowersOf(ctx, ctx.getActorUri(identifier).href);
  if (!actor || recipients.length === 0) return;
  const update = new Update({
    id: newActivityIri(ctx, identifier, "update"),
    actor: ctx.getActorUri(identifier),
    object: actor,
    to: new URL(PUBLIC_AUDIENCE),
  });
  await ctx.sendActivity({ identifier }, recipients, update, { preferSharedInbox: true });
}

export function registerActors(federation: Federation<InstanceData>): void {
  federation
    .setActorDispatcher(ACTOR_PATH, dispatchActor)
    .setKeyPairsDispatcher(async (ctx, identifier) => {
      const actor = await findActorByIdentifier(ctx.data.db, identifier);
      return actor ? await loadKeyPairs(ctx, actor) : [];
    })
    // WebFinger usernames are the identifiers themselves.
    .mapHandle(async (ctx, username) => (await findActorByIdentifier(ctx.data.db, username) ? username : null));
}

