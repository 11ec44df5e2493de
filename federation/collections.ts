/**
 * The collections every actor has: followers (also what Fedify walks when we
 * send to "followers"), following, and the outbox of public activities.
 * Pages are cursor = offset; a null cursor means the whole collection.
 *
 * The outbox lists what the actor published, newest first: for a community,
 * the `Create` of every version of its policies (the same activities its
 * followers received), so a new follower on any server can backfill. It is
 * read from the versions themselves, one page per query.
 */
import type { Federation, PageItems } from "@fedify/fedify";
import type { Activity, Recipient } from "@fedify/vocab";
import { and, eq } from "drizzle-orm";
import { federatedActors, follows } from "../db/schema.ts";
import { countPublished, listPublished } from "../src/policies/policies.ts";
import { countFollowers, countFollowing } from "../src/follows.ts";
import { findActorByIdentifier } from "../src/actors/local-actors.ts";
import type { FedCtx, InstanceData } from "./context.ts";
import { toRecipient } from "./entities/actor.ts";
import { versionCreate } from "./policy-activities.ts";

const PAGE_SIZE = 50;
const OUTBOX_PAGE_SIZE = 20;

function page<T>(all: T[], cursor: string | null): PageItems<T> {
  if (cursor === null) return { items: all };
  const offset = Number.parseInt(cursor, 10) || 0;
  const items = all.slice(offset, offset + PAGE_SIZE);
  return { items, nextCursor: offset + PAGE_SIZE < all.length ? String(offset + PAGE_SIZE) : null };
}

async function followerRecipients(ctx: FedCtx, identifier: string): Promise<Recipient[]> {
  const rows = await ctx.data.db
    .select({ actor: federatedActors })
    .from(follows)
    .innerJoin(federatedActors, eq(federatedActors.iri, follows.followerIri))
    .where(and(eq(follows.followeeIri, ctx.getActorUri(identifier).href), eq(follows.state, "accepted")))
    .orderBy(follows.id);
  return rows.map((row) => toRecipient(row.actor));
}

async function followingIris(ctx: FedCtx, identifier: string): Promise<URL[]> {
  return (await ctx.data.db
    .select({ iri: follows.followeeIri })
    .from(follows)
    .where(and(eq(follows.followerIri, ctx.getActorUri(identifier).href), eq(follows.state, "accepted")))
    .orderBy(follows.id))
    .map((row) => new URL(row.iri));
}

function offsetOf(cursor: string | null): number {
  const offset = Number.parseInt(cursor ?? "0", 10);
  return Number.isSafeInteger(offset) && offset > 0 ? offset : 0;
}

/** One page of an actor's outbox; undefined for an unknown actor. */
export async function outboxPage(ctx: FedCtx, identifier: string, cursor: string | null): Promise<PageItems<Activity> | null> {
  if (!await findActorByIdentifier(ctx.data.db, identifier)) return null;
  const offset = offsetOf(cursor);
  const rows = await listPublished(ctx.data.db, { ownerIri: ctx.getActorUri(identifier).href }, { offset, limit: OUTBOX_PAGE_SIZE + 1 });
  const items = rows.slice(0, OUTBOX_PAGE_SIZE).map((row) => versionCreate(ctx, row.policy, row.version));
  return { items, nextCursor: rows.length > OUTBOX_PAGE_SIZE ? String(offset + OUTBOX_PAGE_SIZE) : null };
}

export function registerCollections(federation: Federation<InstanceData>): void {
  federation
    .setFollowersDispatcher("/actors/{identifier}/followers", async (ctx, identifier, cursor) =>
      await findActorByIdentifier(ctx.data.db, identifier) ? page(await followerRecipients(ctx, identifier), cursor) : null,
    )
    .setCounter(async (ctx, identifier) => await countFollowers(ctx.data.db, ctx.getActorUri(identifier).href))
    .setFirstCursor(() => "0");

  federation
    .setFollowingDispatcher("/actors/{identifier}/following", async (ctx, identifier, cursor) =>
      await findActorByIdentifier(ctx.data.db, identifier) ? page(await followingIris(ctx, identifier), cursor) : null,
    )
    .setCounter(async (ctx, identifier) => await countFollowing(ctx.data.db, ctx.getActorUri(identifier).href))
    .setFirstCursor(() => "0");

  federation
    .setOutboxDispatcher("/actors/{identifier}/outbox", async (ctx, identifier, cursor) => await outboxPage(ctx, identifier, cursor))
    .setCounter(async (ctx, identifier) =>
      await findActorByIdentifier(ctx.data.db, identifier) ? await countPublished(ctx.data.db, { ownerIri: ctx.getActorUri(identifier).href }) : null,
    )
    .setFirstCursor(() => "0");
}
