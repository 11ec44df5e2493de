/**
 * Follow relations ("subscriptions"), recorded by IRI in both directions.
 * These functions only touch the database; the federation layer sends and
 * receives the Follow / Accept / Reject / Undo activities around them.
 */
import { and, asc, desc, eq, inArray, isNotNull, isNull, lte, or, sql, type SQL } from "drizzle-orm";
import { alias, type SQLiteColumn } from "drizzle-orm/sqlite-core";
import { countRows, type Db } from "../db/client.ts";
import { annotations, federatedActors, follows, offers, policies, policyForks, policyVersions, remoteProposals, undoneFollows, type FollowState } from "../db/schema.ts";
import { NotFoundError } from "./errors.ts";

export type Follow = typeof follows.$inferSelect;

export interface FollowWithActor extends Follow {
  /** The other side of the relation, as last fetched. */
  actor: { iri: string; handle: string | null; name: string | null; type: string | null; url: string | null };
}

/** A local actor asks to follow `followeeIri`. Re-following keeps an accepted state. */
export function recordOutgoingFollow(db: Db, input: { followerIri: string; followeeIri: string; activityIri: string }): Follow {
  const now = new Date();
  return db
    .insert(follows)
    .values({ ...input, state: "pending", updatedAt: now })
    .onConflictDoUpdate({
      target: [follows.followerIri, follows.followeeIri],
      set: { activityIri: input.activityIri, updatedAt: now },
    })
    .returning()
    .get();
}

/**
 * Someone asks to follow a local actor. Returns the row and whether this call
 * changed its state (so a re-delivered Follow does not produce a second Accept
 * unless the relation was not accepted yet).
 */
export function recordIncomingFollow(
  db: Db,
  input: { followerIri: string; followeeIri: string; activityIri: string; autoAccept: boolean },
): Follow {
  const now = new Date();
  return db.transaction((tx) => {
    const existing = tx
      .select()
      .from(follows)
      .where(and(eq(follows.followerIri, input.followerIri), eq(follows.followeeIri, input.followeeIri)))
      .get();
    const state: FollowState = existing?.state === "accepted" || input.autoAccept ? "accepted" : "pending";
    if (existing) {
      return tx
        .update(follows)
        .set({ activityIri: input.activityIri, state, updatedAt: now })
        .where(eq(follows.id, existing.id))
        .returning()
        .get();
    }
    return tx
      .insert(follows)
      .values({ followerIri: input.followerIri, followeeIri: input.followeeIri, activityIri: input.activityIri, state, updatedAt: now })
      .returning()
      .get();
  });
}

/** How long an Undo that came before its Follow is remembered. */
export const UNDONE_FOLLOW_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * An Undo named a Follow we do not hold (yet): remember it, so that the
 * Follow arriving late does not revive the relation. Expired rows go first.
 */
export function rememberUndoneFollow(db: Db, followIri: string, followerIri: string, now = new Date()): void {
  db.transaction((tx) => {
    tx.delete(undoneFollows).where(lte(undoneFollows.expiresAt, now)).run();
    tx.insert(undoneFollows)
      .values({ followIri, followerIri, expiresAt: new Date(now.getTime() + UNDONE_FOLLOW_TTL_MS) })
      .onConflictDoNothing()
      .run();
  });
}

/** Whether this Follow (by its IRI and its actor) was undone before it arrived. */
export function wasUndone(db: Db, followIri: string, followerIri: string, now = new Date()): boolean {
  const row = db
    .select({ expiresAt: undoneFollows.expiresAt })
    .from(undoneFollows)
    .where(and(eq(undoneFollows.followIri, followIri), eq(undoneFollows.followerIri, followerIri)))
    .get();
  return row !== undefined && row.expiresAt > now;
}

export function findFollow(db: Db, followerIri: string, followeeIri: string): Follow | undefined {
  return db
    .select()
    .from(follows)
    .where(and(eq(follows.followerIri, followerIri), eq(follows.followeeIri, followeeIri)))
    .get();
}

export function findFollowByActivity(db: Db, activityIri: string): Follow | undefined {
  return db.select().from(follows).where(eq(follows.activityIri, activityIri)).get();
}

export function findFollowById(db: Db, id: number): Follow | undefined {
  return db.select().from(follows).where(eq(follows.id, id)).get();
}

export function setFollowState(db: Db, id: number, state: FollowState): Follow {
  const row = db.update(follows).set({ state, updatedAt: new Date() }).where(eq(follows.id, id)).returning().get();
  if (!row) throw new NotFoundError(`No follow relation with id ${id}.`);
  return row;
}

export function deleteFollow(db: Db, id: number): void {
  db.delete(follows).where(eq(follows.id, id)).run();
}

/** Whether a remote actor's profile (and so its inbox) is cached here. */
export function isKnownActor(db: Db, iri: string): boolean {
  return db.select({ id: federatedActors.id }).from(federatedActors).where(eq(federatedActors.iri, iri)).get() !== undefined;
}

/**
 * Records a remote policy someone here follows before any of its versions
 * arrived, so the community's Accept can be matched to it and versions
 * attach to it later. A policy held already is left as it is.
 */
export function rememberFollowedPolicy(db: Db, doc: { id: string; attributedTo: string; name?: string; licence?: string }): void {
  const slug = new URL(doc.id).pathname.split("/").filter(Boolean).pop() ?? "policy";
  db.insert(policies)
    .values({ iri: doc.id, ownerIri: doc.attributedTo, communityId: null, slug, title: doc.name ?? slug, licence: doc.licence ?? "NOASSERTION" })
    .onConflictDoNothing({ target: policies.iri })
    .run();
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
export function followWithActor(db: Db, id: number, side: "follower" | "followee"): FollowWithActor | undefined {
  const row = withActor(db, side).where(eq(follows.id, id)).get();
  return row ? toFollowWithActor(row, side === "follower" ? row.follow.followerIri : row.follow.followeeIri) : undefined;
}

/** What a local actor follows, with the followee's cached profile. */
export function listFollowing(db: Db, followerIri: string): FollowWithActor[] {
  return withActor(db, "followee")
    .where(eq(follows.followerIri, followerIri))
    .orderBy(asc(follows.id))
    .all()
    .map((row) => toFollowWithActor(row, row.follow.followeeIri));
}

/** Who follows a local actor (optionally only in one state), with their profiles. */
export function listFollowers(db: Db, followeeIri: string, state?: FollowState): FollowWithActor[] {
  const condition = state
    ? and(eq(follows.followeeIri, followeeIri), eq(follows.state, state))
    : eq(follows.followeeIri, followeeIri);
  return withActor(db, "follower")
    .where(condition)
    .orderBy(asc(follows.id))
    .all()
    .map((row) => toFollowWithActor(row, row.follow.followerIri));
}

export function countFollowers(db: Db, followeeIri: string): number {
  return countRows(db, follows, and(eq(follows.followeeIri, followeeIri), eq(follows.state, "accepted")));
}

export function countFollowing(db: Db, followerIri: string): number {
  return countRows(db, follows, and(eq(follows.followerIri, followerIri), eq(follows.state, "accepted")));
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

function followedIris(db: Db, followerIris: string[]): string[] {
  if (followerIris.length === 0) return [];
  return db
    .selectDistinct({ iri: follows.followeeIri })
    .from(follows)
    .where(and(inArray(follows.followerIri, followerIris), eq(follows.state, "accepted")))
    .all()
    .map((row) => row.iri);
}

function actorOf(iri: string, row: { name: string | null; handle: string | null; url: string | null } | null): FeedActor {
  return { iri, name: row?.name ?? null, handle: row?.handle ?? null, url: row?.url ?? null };
}

const actorColumns = { name: federatedActors.name, handle: federatedActors.handle, url: federatedActors.url };
const policyColumns = { policyId: policies.id, policyTitle: policies.title, policyIri: policies.iri, communityId: policies.communityId };

/** Versions of policies the scope follows, directly or through their community, newest first. */
export function followedVersions(db: Db, followerIris: string[], limit: number): FeedItem[] {
  const followed = followedIris(db, followerIris);
  if (followed.length === 0) return [];
  return versionItems(db, or(inArray(policies.iri, followed), inArray(policies.ownerIri, followed))!, limit);
}

/** The newest versions published by this instance's communities. */
export function localVersions(db: Db, limit: number): FeedItem[] {
  return versionItems(db, isNotNull(policies.communityId), limit);
}

function versionItems(db: Db, condition: SQL, limit: number): FeedItem[] {
  const at = publishedOrArrival(policyVersions.publishedAt, policyVersions.receivedAt);
  return db
    .select({ version: policyVersions, policy: policyColumns, owner: actorColumns, ownerIri: policies.ownerIri, at })
    .from(policyVersions)
    .innerJoin(policies, eq(policies.id, policyVersions.policyId))
    .leftJoin(federatedActors, eq(federatedActors.iri, policies.ownerIri))
    .where(and(condition, isNull(policyVersions.retractedAt)))
    .orderBy(desc(at), desc(policyVersions.id))
    .limit(limit)
    .all()
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

function incomingAnnotations(db: Db, communityIds: number[], limit: number): FeedItem[] {
  if (communityIds.length === 0) return [];
  const at = publishedOrArrival(annotations.published, annotations.receivedAt);
  return db
    .select({ annotation: annotations, policy: policyColumns, author: actorColumns, at })
    .from(annotations)
    .innerJoin(policies, eq(policies.iri, annotations.policyIri))
    .leftJoin(federatedActors, eq(federatedActors.iri, annotations.authorIri))
    .where(and(inArray(policies.communityId, communityIds), eq(annotations.local, false), isNull(annotations.hiddenAt)))
    .orderBy(desc(at), desc(annotations.id))
    .limit(limit)
    .all()
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

function incomingOffers(db: Db, communityIds: number[], limit: number): FeedItem[] {
  if (communityIds.length === 0) return [];
  return db
    .select({ offer: offers, policy: policyColumns, author: actorColumns })
    .from(offers)
    .innerJoin(policies, eq(policies.iri, offers.targetIri))
    .leftJoin(federatedActors, eq(federatedActors.iri, offers.actorIri))
    .where(and(inArray(policies.communityId, communityIds), eq(offers.direction, "incoming")))
    .orderBy(desc(offers.createdAt), desc(offers.id))
    .limit(limit)
    .all()
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

function incomingForks(db: Db, communityIds: number[], limit: number): FeedItem[] {
  if (communityIds.length === 0) return [];
  const forkPolicy = alias(policies, "fork_policy");
  return db
    .select({ fork: policyForks, policy: policyColumns, owner: actorColumns, forkPolicyId: forkPolicy.id })
    .from(policyForks)
    .innerJoin(policies, eq(policies.id, policyForks.policyId))
    .leftJoin(federatedActors, eq(federatedActors.iri, policyForks.forkOwnerIri))
    .leftJoin(forkPolicy, eq(forkPolicy.iri, policyForks.forkIri))
    .where(inArray(policies.communityId, communityIds))
    .orderBy(desc(policyForks.receivedAt), desc(policyForks.id))
    .limit(limit)
    .all()
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
export function feedPage(db: Db, scope: FeedScope, page: { offset: number; limit: number }): { items: FeedItem[]; more: boolean } {
  const wanted = page.offset + page.limit + 1;
  const merged = [
    ...followedVersions(db, scope.followerIris, wanted),
    ...incomingAnnotations(db, scope.communityIds, wanted),
    ...incomingOffers(db, scope.communityIds, wanted),
    ...incomingForks(db, scope.communityIds, wanted),
    ...followedProposals(db, scope.followerIris, wanted),
  ].sort((a, b) => b.at.getTime() - a.at.getTime());
  return { items: merged.slice(page.offset, page.offset + page.limit), more: merged.length > page.offset + page.limit };
}

/** Proposals of policies the scope follows (directly or through their community), as their polls last reported. */
function followedProposals(db: Db, followerIris: string[], limit: number): FeedItem[] {
  const followed = followedIris(db, followerIris);
  if (followed.length === 0) return [];
  return db
    .select({ proposal: remoteProposals, policy: policyColumns, owner: actorColumns })
    .from(remoteProposals)
    .innerJoin(policies, eq(policies.iri, remoteProposals.policyIri))
    .leftJoin(federatedActors, eq(federatedActors.iri, remoteProposals.ownerIri))
    .where(or(inArray(policies.iri, followed), inArray(policies.ownerIri, followed)))
    .orderBy(desc(remoteProposals.receivedAt), desc(remoteProposals.id))
    .limit(limit)
    .all()
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
