/**
 * Follow relations ("subscriptions"), recorded by IRI in both directions.
 * These functions only touch the database; the federation layer sends and
 * receives the Follow / Accept / Reject / Undo activities around them.
 */
import { and, asc, desc, eq, inArray, isNotNull, isNull, lte, or, sql, type SQL } from "drizzle-orm";
import { alias, type SQLiteColumn } from "drizzle-orm/sqlite-core";
import { first, countRows, type Db } from "../db/client.ts";
import { annotations, federatedActors, follows, offers, policies, policyForks, policyVersions, remoteProposals, undoneFollows, type FollowState } from "../db/schema.ts";
import { NotFoundError } from "./errors.ts";

export type Follow = typeof follows.$inferSelect;

export interface FollowWithActor extends Follow {
  /** The other side of the relation, as last fetched. */
  actor: { iri: string; handle: string | null; name: string | null; type: string | null; url: string | null };
}

/** A local actor asks to follow `followeeIri`. Re-following keeps an accepted state. */
export async function recordOutgoingFollow(db: Db, input: { followerIri: string; followeeIri: string; activityIri: string }): Promise<Follow> {
  const now = new Date();
  return (await first(db
    .insert(follows)
    .values({ ...input, state: "pending", updatedAt: now })
    .onConflictDoUpdate({
      target: [follows.followerIri, follows.followeeIri],
      set: { activityIri: input.activityIri, updatedAt: now },
    })
    .returning()))!;
}

/**
 * Someone asks to follow a local actor. Returns the row and whether this call
 * changed its state (so a re-delivered Follow does not produce a second Accept
 * unless the relation was not accepted yet).
 */
export async function recordIncomingFollow(
  db: Db,
  input: { followerIri: string; followeeIri: string; activityIri: string; autoAccept: boolean },
): Promise<Follow> {
  const now = new Date();
  return await db.transaction(async (tx) => {
    const existing = await first(tx
      .select()
      .from(follows)
      .where(and(eq(follows.followerIri, input.followerIri), eq(follows.followeeIri, input.followeeIri))).limit(1));
    const state: FollowState = existing?.state === "accepted" || input.autoAccept ? "accepted" : "pending";
    if (existing) {
      const [updated] = await tx
        .update(follows)
        .set({ activityIri: input.activityIri, state, updatedAt: now })
        .where(eq(follows.id, existing.id))
        .returning();
      return updated!;
    }
    const [inserted] = await tx
      .insert(follows)
      .values({ followerIri: input.followerIri, followeeIri: input.followeeIri, activityIri: input.activityIri, state, updatedAt: now })
      .returning();
    return inserted!;
  });
}

/** How long an Undo that came before its Follow is remembered. */
export const UNDONE_FOLLOW_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * An Undo named a Follow we do not hold (yet): remember it, so that the
 * Follow arriving late does not revive the relation. Expired rows go first.
 */
export async function rememberUndoneFollow(db: Db, followIri: string, followerIri: string, now = new Date()): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(undoneFollows).where(lte(undoneFollows.expiresAt, now));
    await tx.insert(undoneFollows)
      .values({ followIri, followerIri, expiresAt: new Date(now.getTime() + UNDONE_FOLLOW_TTL_MS) })
      .onConflictDoNothing();
  });
}

/** Whether this Follow (by its IRI and its actor) was undone before it arrived. */
export async function wasUndone(db: Db, followIri: string, followerIri: string, now = new Date()): Promise<boolean> {
  const row = await first(db
    .select({ expiresAt: undoneFollows.expiresAt })
    .from(undoneFollows)
    .where(and(eq(undoneFollows.followIri, followIri), eq(undoneFollows.followerIri, followerIri))).limit(1));
  return row !== undefined && row.expiresAt > now;
}

export async function findFollow(db: Db, followerIri: string, followeeIri: string): Promise<Follow | undefined> {
  return await first(db
    .select()
    .from(follows)
    .where(and(eq(follows.followerIri, followerIri), eq(follows.followeeIri, followeeIri))).limit(1));
}

export async function findFollowByActivity(db: Db, activityIri: string): Promise<Follow | undefined> {
  return await first(db.select().from(follows).where(eq(follows.activityIri, activityIri)).limit(1));
}

export async function findFollowById(db: Db, id: number): Promise<Follow | undefined> {
  return await first(db.select().from(follows).where(eq(follows.id, id)).limit(1));
}

export async function setFollowState(db: Db, id: number, state: FollowState): Promise<Follow> {
  const row = await first(db.update(follows).set({ state, updatedAt: new Date() }).where(eq(follows.id, id)).returning());
  if (!row) throw new NotFoundError(`No follow relation with id ${id}.`);
  return row;
}

export async function deleteFollow(db: Db, id: number): Promise<void> {
  await db.delete(follows).where(eq(follows.id, id));
}

/** Whether a remote actor's profile (and so its inbox) is cached here. */
export async function isKnownActor(db: Db, iri: string): Promise<boolean> {
  return await first(db.select({ id: federatedActors.id }).from(federatedActors).where(eq(federatedActors.iri, iri)).limit(1)) !== undefined;
}

/**
 * Records a remote policy someone here follows before any of its versions
 * arrived, so the community's Accept can be matched to it and versions
 * attach to it later. A policy held already is left as it is.
 */
export async function rememberFollowedPolicy(db: Db, doc: { id: string; attributedTo: string; name?: string; licence?: string }): Promise<void> {
  const slug = new URL(doc.id).pathname.split("/").filter(Boolean).pop() ?? "policy";
  await db.insert(policies)
    .values({ iri: doc.id, ownerIri: doc.attributedTo, communityId: null, slug, title: doc.name ?? slug, licence: doc.licence ?? "NOASSERTION" })
    .onConflictDoNothing({ target: policies.iri });
}

/** Follows joined with the other side's profile: an actor, or a followed policy. */
function withActor(db: Db, side: "follower" | "followee") {
  const joinColumn = side === "follower" ? follows.followerIri : follows.followeeIri;
  return db
    .select({ follow: follows, actor: federatedActors, policy: { title: policies.title } })
    .from(follows)
    .leftJoin(federatedActors, eq(federatedActors.iri, joinColumn))
    .leftJoin(policies, eq(policies.iri, joinColumn));
}

function toFollowWithActor(
  row: { follow: Follow; actor: typeof federatedActors.$inferSelect | null; policy: { title: string } | null },
  iri: string,
): FollowWithActor {
  return {
    ...row.follow,
    actor: {
      iri,
      handle: row.actor?.handle ?? null,
      name: row.actor?.name ?? row.policy?.title ?? null,
      type: row.actor?.type ?? (row.policy ? "Policy" : null),
      url: row.actor?.url ?? (row.policy ? iri : null),
    },
  };
}

/** One follow with the other side's profile. */
export async function followWithActor(db: Db, id: number, side: "follower" | "followee"): Promise<FollowWithActor | undefined> {
  const row = await first(withActor(db, side).where(eq(follows.id, id)).limit(1));
  return row ? toFollowWithActor(row, side === "follower" ? row.follow.followerIri : row.follow.followeeIri) : undefined;
}

/** What a local actor follows, with the followee's cached profile. */
export async function listFollowing(db: Db, followerIri: string): Promise<FollowWithActor[]> {
  return (await withActor(db, "followee")
    .where(eq(follows.followerIri, followerIri))
    .orderBy(asc(follows.id)))
    .map((row) => toFollowWithActor(row, row.follow.followeeIri));
}

/** Who follows a local actor (optionally only in one state), with their profiles. */
export async function listFollowers(db: Db, followeeIri: string, state?: FollowState): Promise<FollowWithActor[]> {
  const condition = state
    ? and(eq(follows.followeeIri, followeeIri), eq(follows.state, state))
    : eq(follows.followeeIri, followeeIri);
  return (await withActor(db, "follower")
    .where(condition)
    .orderBy(asc(follows.id)))
    .map((row) => toFollowWithActor(row, row.follow.followerIri));
}

export async function countFollowers(db: Db, followeeIri: string): Promise<number> {
  return await countRows(db, follows, and(eq(follows.followeeIri, followeeIri), eq(follows.state, "accepted")));
}

export async function countFollowing(db: Db, followerIri: string): Promise<number> {
  return await countRows(db, follows, and(eq(follows.followerIri, followerIri), eq(follows.state, "accepted")));
}

/* ------------------------------------------------------------------------ *
 * What a reader follows, as a feed: new versions of followed policies (or of
 * policies of followed communities), and what arrived about the policies of
 * the reader's own communities (annotations, offers, forks). Versions and
 * annotations are placed by when they were published, not when they
 * arrived: a version published earlier but received later (a peer that was
 * down, a backfill) sorts among its contemporaries. A published time later
 * than the arrival (a wrong clock, or a peer pinning itself to the top of
 * every feed) counts as the arrival: `publishedOrArrival`.
 * ------------------------------------------------------------------------ */

/** When a thing sorts in the feed: its publication time, but never later than it arrived here. */
function publishedOrArrival(published: SQLiteColumn, received: SQLiteColumn): SQL<Date> {
  return sql`min(${published}, ${received})`.mapWith((value: number) => new Date(value));
}

export interface FeedActor {
  iri: string;
  name: string | null;
  handle: string | null;
  url: string | null;
}

interface FeedPolicyRef {
  policyId: number;
  policyTitle: string;
  policyIri: string;
  /** The local community owning it, when it is one of ours. */
  communityId: number | null;
}

export type FeedItem =
  | (FeedPolicyRef & { kind: "version"; at: Date; number: number; changelog: string; publishedAt: Date; owner: FeedActor })
  | (FeedPolicyRef & { kind: "annotation"; at: Date; annotationId: number; clauseId: string | null; motivation: string; text: string; author: FeedActor })
  | (FeedPolicyRef & { kind: "offer"; at: Date; offerId: number; offerIri: string; message: string; state: string; author: FeedActor })
  | (FeedPolicyRef & { kind: "fork"; at: Date; forkIri: string; forkPolicyId: number | null; owner: FeedActor })
  | (FeedPolicyRef & {
      kind: "proposal";
      at: Date;
      proposalIri: string;
      name: string;
      contentHtml: string;
      endTime: Date | null;
      closedAt: Date | null;
      counts: Record<string, number>;
      voters: number | null;
      owner: FeedActor;
    });

/** Whose subscriptions and which communities' policies a feed covers. */
export interface FeedScope {
  /** Local actor IRIs whose accepted follows count (the reader, their communities). */
  followerIris: string[];
  /** Local communities whose policies' incoming annotations, offers and forks count. */
  communityIds: number[];
}

async function followedIris(db: Db, followerIris: string[]): Promise<string[]> {
  if (followerIris.length === 0) return [];
  return (await db
    .selectDistinct({ iri: follows.followeeIri })
    .from(follows)
    .where(and(inArray(follows.followerIri, followerIris), eq(follows.state, "accepted"))))
    .map((row) => row.iri);
}

function actorOf(iri: string, row: { name: string | null; handle: string | null; url: string | null } | null): FeedActor {
  return { iri, name: row?.name ?? null, handle: row?.handle ?? null, url: row?.url ?? null };
}

const actorColumns = { name: federatedActors.name, handle: federatedActors.handle, url: federatedActors.url };
const policyColumns = { policyId: policies.id, policyTitle: policies.title, policyIri: policies.iri, communityId: policies.communityId };

/** Versions of policies the scope follows, directly or through their community, newest first. */
export async function followedVersions(db: Db, followerIris: string[], limit: number): Promise<FeedItem[]> {
  const followed = await followedIris(db, followerIris);
  if (followed.length === 0) return [];
  return await versionItems(db, or(inArray(policies.iri, followed), inArray(policies.ownerIri, followed))!, limit);
}

/** The newest versions published by this instance's communities. */
export async function localVersions(db: Db, limit: number): Promise<FeedItem[]> {
  return await versionItems(db, isNotNull(policies.communityId), limit);
}

async function versionItems(db: Db, condition: SQL, limit: number): Promise<FeedItem[]> {
  const at = publishedOrArrival(policyVersions.publishedAt, policyVersions.receivedAt);
  return (await db
    .select({ version: policyVersions, policy: policyColumns, owner: actorColumns, ownerIri: policies.ownerIri, at })
    .from(policyVersions)
    .innerJoin(policies, eq(policies.id, policyVersions.policyId))
    .leftJoin(federatedActors, eq(federatedActors.iri, policies.ownerIri))
    .where(and(condition, isNull(policyVersions.retractedAt)))
    .orderBy(desc(at), desc(policyVersions.id))
    .limit(limit))
    .map((row) => ({
      kind: "version" as const,
      ...row.policy,
      at: row.at,
      number: row.version.number,
      changelog: row.version.changelog,
      publishedAt: row.version.publishedAt,
      owner: actorOf(row.ownerIri, row.owner),
    }));
}

async function incomingAnnotations(db: Db, communityIds: number[], limit: number): Promise<FeedItem[]> {
  if (communityIds.length === 0) return [];
  const at = publishedOrArrival(annotations.published, annotations.receivedAt);
  return (await db
    .select({ annotation: annotations, policy: policyColumns, author: actorColumns, at })
    .from(annotations)
    .innerJoin(policies, eq(policies.iri, annotations.policyIri))
    .leftJoin(federatedActors, eq(federatedActors.iri, annotations.authorIri))
    .where(and(inArray(policies.communityId, communityIds), eq(annotations.local, false), isNull(annotations.hiddenAt)))
    .orderBy(desc(at), desc(annotations.id))
    .limit(limit))
    .map((row) => ({
      kind: "annotation" as const,
      ...row.policy,
      at: row.at,
      annotationId: row.annotation.id,
      clauseId: row.annotation.clauseId,
      motivation: row.annotation.motivation,
      text: row.annotation.text,
      author: actorOf(row.annotation.authorIri, row.author),
    }));
}

async function incomingOffers(db: Db, communityIds: number[], limit: number): Promise<FeedItem[]> {
  if (communityIds.length === 0) return [];
  return (await db
    .select({ offer: offers, policy: policyColumns, author: actorColumns })
    .from(offers)
    .innerJoin(policies, eq(policies.iri, offers.targetIri))
    .leftJoin(federatedActors, eq(federatedActors.iri, offers.actorIri))
    .where(and(inArray(policies.communityId, communityIds), eq(offers.direction, "incoming")))
    .orderBy(desc(offers.createdAt), desc(offers.id))
    .limit(limit))
    .map((row) => ({
      kind: "offer" as const,
      ...row.policy,
      at: row.offer.createdAt,
      offerId: row.offer.id,
      offerIri: row.offer.iri,
      message: row.offer.message,
      state: row.offer.state,
      author: actorOf(row.offer.actorIri, row.author),
    }));
}

async function incomingForks(db: Db, communityIds: number[], limit: number): Promise<FeedItem[]> {
  if (communityIds.length === 0) return [];
  const forkPolicy = alias(policies, "fork_policy");
  return (await db
    .select({ fork: policyForks, policy: policyColumns, owner: actorColumns, forkPolicyId: forkPolicy.id })
    .from(policyForks)
    .innerJoin(policies, eq(policies.id, policyForks.policyId))
    .leftJoin(federatedActors, eq(federatedActors.iri, policyForks.forkOwnerIri))
    .leftJoin(forkPolicy, eq(forkPolicy.iri, policyForks.forkIri))
    .where(inArray(policies.communityId, communityIds))
    .orderBy(desc(policyForks.receivedAt), desc(policyForks.id))
    .limit(limit))
    .map((row) => ({
      kind: "fork" as const,
      ...row.policy,
      at: row.fork.receivedAt,
      forkIri: row.fork.forkIri,
      forkPolicyId: row.forkPolicyId,
      owner: actorOf(row.fork.forkOwnerIri, row.owner),
    }));
}

/** One page of the feed, newest first, and whether there are older items. */
export async function feedPage(db: Db, scope: FeedScope, page: { offset: number; limit: number }): Promise<{ items: FeedItem[]; more: boolean }> {
  const wanted = page.offset + page.limit + 1;
  const merged = [
    ...await followedVersions(db, scope.followerIris, wanted),
    ...await incomingAnnotations(db, scope.communityIds, wanted),
    ...await incomingOffers(db, scope.communityIds, wanted),
    ...await incomingForks(db, scope.communityIds, wanted),
    ...await followedProposals(db, scope.followerIris, wanted),
  ].sort((a, b) => b.at.getTime() - a.at.getTime());
  return { items: merged.slice(page.offset, page.offset + page.limit), more: merged.length > page.offset + page.limit };
}

/** Proposals of policies the scope follows (directly or through their community), as their polls last reported. */
async function followedProposals(db: Db, followerIris: string[], limit: number): Promise<FeedItem[]> {
  const followed = await followedIris(db, followerIris);
  if (followed.length === 0) return [];
  return (await db
    .select({ proposal: remoteProposals, policy: policyColumns, owner: actorColumns })
    .from(remoteProposals)
    .innerJoin(policies, eq(policies.iri, remoteProposals.policyIri))
    .leftJoin(federatedActors, eq(federatedActors.iri, remoteProposals.ownerIri))
    .where(or(inArray(policies.iri, followed), inArray(policies.ownerIri, followed)))
    .orderBy(desc(remoteProposals.receivedAt), desc(remoteProposals.id))
    .limit(limit))
    .map((row) => ({
      kind: "proposal" as const,
      ...row.policy,
      at: row.proposal.receivedAt,
      proposalIri: row.proposal.iri,
      name: row.proposal.name,
      contentHtml: row.proposal.contentHtml,
      endTime: row.proposal.endTime,
      closedAt: row.proposal.closedAt,
      counts: row.proposal.counts,
      voters: row.proposal.voters,
      owner: actorOf(row.proposal.ownerIri, row.owner),
    }));
}
