import { countRows } from "../db/client.ts";
/**
 * The collections every actor has: followers (also what Fedify walks when we
 * send to "followers"), following, and the outbox of public activities.
 * Pages are cursor = offset; a null cursor means the whole collection.
 */
import type { Federation, PageItems } from "@fedify/fedify";
import { Activity, type Recipient } from "@fedify/vocab";
import { and, desc, eq } from "drizzle-orm";
import { federatedActors, follows, outboxActivities } from "../db/schema.ts";
import { countFollowers, countFollowing } from "../src/follows.ts";
import { findActorByIdentifier } from "../src/actors/local-actors.ts";
import type { FedCtx, InstanceData } from "./context.ts";
import { toRecipient } from "./persist-actor.ts";

const PAGE_SIZE = 50;

function page<T>(all: T[], cursor: string | null): PageItems<T> {
  if (cursor === null) return { items: all };
  const offset = Number.parseInt(cursor, 10) || 0;
  const items = all.slice(offset, offset + PAGE_SIZE);
  return { items, nextCursor: offset + PAGE_SIZE < all.length ? String(offset + PAGE_SIZE) : null };
}

function followerRecipients(ctx: FedCtx, identifier: string): Recipient[] {
  const rows = ctx.data.db
    .select({ actor: federatedActors })
    .from(follows)
    .innerJoin(federatedActors, eq(federatedActors.iri, follows.followerIri))
    .where(and(eq(follows.followeeIri, ctx.getActorUri(identifier).href), eq(follows.state, "accepted")))
    .orderBy(follows.id)
    .all();
  return rows.map((row) => toRecipient(row.actor));
}

function followingIris(ctx: FedCtx, identifier: string): URL[] {
  return ctx.data.db
    .select({ iri: follows.followeeIri })
    .from(follows)
    .where(and(eq(follows.followerIri, ctx.getActorUri(identifier).href), eq(follows.state, "accepted")))
    .orderBy(follows.id)
    .all()
    .map((row) => new URL(row.iri));
}

async function outboxItems(ctx: FedCtx, identifier: string): Promise<Activity[]> {
  const actor = findActorByIdentifier(ctx.data.db, identifier);
  if (!actor) return [];
  const rows = ctx.data.db
    .select({ json: outboxActivities.json })
    .from(outboxActivities)
    .where(eq(outboxActivities.actorId, actor.id))
    .orderBy(desc(outboxActivities.published))
    .all();
  return Promise.all(rows.map((row) => Activity.fromJsonLd(row.json, ctx)));
}

export function registerCollections(federation: Federation<InstanceData>): void {
  federation
    .setFollowersDispatcher("/actors/{identifier}/followers", (ctx, identifier, cursor) =>
      findActorByIdentifier(ctx.data.db, identifier) ? page(followerRecipients(ctx, identifier), cursor) : null,
    )
    .setCounter((ctx, identifier) => countFollowers(ctx.data.db, ctx.getActorUri(identifier).href))
    .setFirstCursor(() => "0");

  federation
    .setFollowingDispatcher("/actors/{identifier}/following", (ctx, identifier, cursor) =>
      findActorByIdentifier(ctx.data.db, identifier) ? page(followingIris(ctx, identifier), cursor) : null,
    )
    .setCounter((ctx, identifier) => countFollowing(ctx.data.db, ctx.getActorUri(identifier).href))
    .setFirstCursor(() => "0");

  federation
    .setOutboxDispatcher("/actors/{identifier}/outbox", async (ctx, identifier, cursor) =>
      findActorByIdentifier(ctx.data.db, identifier) ? page(await outboxItems(ctx, identifier), cursor) : null,
    )
    .setCounter((ctx, identifier) => {
      const actor = findActorByIdentifier(ctx.data.db, identifier);
      return actor ? countRows(ctx.data.db, outboxActivities, eq(outboxActivities.actorId, actor.id)) : null;
    })
    .setFirstCursor(() => "0");
}
