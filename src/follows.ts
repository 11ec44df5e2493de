/**
 * Follow relations ("subscriptions"), recorded by IRI in both directions.
 * These functions only touch the database; the federation layer sends and
 * receives the Follow / Accept / Reject / Undo activities around them.
 */
import { and, asc, eq } from "drizzle-orm";
import { countRows, type Db } from "../db/client.ts";
import { federatedActors, follows, policies, type FollowState } from "../db/schema.ts";
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
