/**
 * Entity module for follow relations (Hollo style). `persistFollow` turns a
 * received Follow into its `follows` row (idempotent, keyed by follower and
 * followee: a repeated Follow updates the activity IRI and keeps an
 * accepted state); `toFollow` turns a row (or what an effect's payload
 * kept of it) back into the Follow activity that asked for it, which is
 * what an Accept, Reject or Undo embeds.
 */
import { Follow } from "@fedify/vocab";
import type { Db } from "../../db/client.ts";
import { recordIncomingFollow, type Follow as FollowRow } from "../../src/follows.ts";

/** What the Follow activity names; the row itself may be gone (an unfollow). */
export type FollowActivityRef = Pick<FollowRow, "activityIri" | "followerIri" | "followeeIri">;

export function toFollow(follow: FollowActivityRef): Follow {
  return new Follow({
    id: new URL(follow.activityIri),
    actor: new URL(follow.followerIri),
    object: new URL(follow.followeeIri),
  });
}

/**
 * A received Follow of `followeeIri` (one of our actors or policies) into
 * its row. `autoAccept`: the followee takes followers without approval.
 */
export async function persistFollow(db: Db, follow: { activityIri: string; followerIri: string }, followeeIri: string, autoAccept: boolean): Promise<FollowRow> {
  return await recordIncomingFollow(db, { ...follow, followeeIri, autoAccept });
}
