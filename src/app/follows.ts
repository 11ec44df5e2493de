/**
 * Use cases of follow relations: following an actor or a policy (as
 * yourself or as a community you steward), unfollowing, and answering
 * follow requests. The remote lookup happens before the transaction; the
 * Follow, Undo, Accept or Reject is an outbox effect of the change.
 */
import type { FollowState } from "../../db/schema.ts";
import { ForbiddenError, InvalidInputError, NotFoundError } from "../errors.ts";
import {
  deleteFollow,
  findFollowById,
  followWithActor,
  isKnownActor,
  listFollowers,
  listFollowing,
  recordOutgoingFollow,
  rememberFollowedPolicy,
  setFollowState,
  type FollowWithActor,
} from "../follows.ts";
import { findPolicyByIri } from "../policies/policies.ts";
import { actingAs } from "./acting.ts";
import type { AppContext } from "./context.ts";
import { recordEffect } from "./outbox.ts";
import type { Viewer } from "./permissions.ts";

/** What you (or a community you steward) follow. */
export function listFollowingOf(ctx: AppContext, viewer: Viewer, as?: string): FollowWithActor[] {
  return listFollowing(ctx.db, actingAs(ctx, viewer, as).iri);
}

/** Who follows you (or a community you steward), pending requests included. */
export function listFollowersOf(ctx: AppContext, viewer: Viewer, as?: string, state?: FollowState): FollowWithActor[] {
  return listFollowers(ctx.db, actingAs(ctx, viewer, as).iri, state);
}

/** Follows an actor (by @handle@host or URL) or a remote policy; pending until the other side accepts. */
export async function followTarget(ctx: AppContext, viewer: Viewer, input: { target: string; as?: string }): Promise<FollowWithActor> {
  const me = actingAs(ctx, viewer, input.as);
  const target = await ctx.federation.lookupFollowTarget(input.target);
  if (target.followeeIri === me.iri) throw new InvalidInputError("An actor cannot follow itself.");
  return ctx.db.transaction(() => {
    if (target.policy) rememberFollowedPolicy(ctx.db, target.policy);
    const follow = recordOutgoingFollow(ctx.db, {
      followerIri: me.iri,
      followeeIri: target.followeeIri,
      activityIri: `${me.iri}#follows/${crypto.randomUUID()}`,
    });
    recordEffect(ctx.db, { kind: "follow.sent", identifier: me.identifier, ...refOf(follow), recipientIri: target.answererIri }, ctx.clock.now());
    return followWithActor(ctx.db, follow.id, "followee")!;
  });
}

/** Stops following (an Undo goes to the followee, or a followed policy's community, when known). Returns the removed follow. */
export function unfollow(ctx: AppContext, viewer: Viewer, id: number, as?: string): FollowWithActor {
  const me = actingAs(ctx, viewer, as);
  const follow = findFollowById(ctx.db, id);
  if (!follow || follow.followerIri !== me.iri) throw new NotFoundError(`You do not follow anything with id ${id}; see \`fedalign following\`.`);
  return ctx.db.transaction(() => {
    const removed = followWithActor(ctx.db, follow.id, "followee")!;
    deleteFollow(ctx.db, follow.id);
    const recipientIri = undoRecipient(ctx, follow.followeeIri);
    if (recipientIri) recordEffect(ctx.db, { kind: "follow.undone", identifier: me.identifier, ...refOf(follow), recipientIri }, ctx.clock.now());
    return removed;
  });
}

/** Accepts or refuses a follow request (refusing an accepted follower removes them). */
export function answerFollowRequest(ctx: AppContext, viewer: Viewer, id: number, answer: "accept" | "reject", as?: string): FollowWithActor {
  const me = actingAs(ctx, viewer, as);
  const follow = findFollowById(ctx.db, id);
  if (!follow || follow.followeeIri !== me.iri) throw new NotFoundError(`No follow request with id ${id}; see \`fedalign followers\`.`);
  if (!isKnownActor(ctx.db, follow.followerIri)) throw new ForbiddenError("The follower's profile is unknown; ask them to follow again.");
  return ctx.db.transaction(() => {
    const updated = setFollowState(ctx.db, follow.id, answer === "accept" ? "accepted" : "rejected");
    recordEffect(
      ctx.db,
      { kind: "follow.answered", answer, identifier: me.identifier, ...refOf(updated), recipientIri: updated.followerIri },
      ctx.clock.now(),
    );
    return followWithActor(ctx.db, updated.id, "follower")!;
  });
}

/**
 * Who must hear of an Undo: the followed actor, or for a followed policy the
 * community that owns it (which answered the Follow). Nobody when we never
 * learnt who that is.
 */
function undoRecipient(ctx: AppContext, followeeIri: string): string | undefined {
  if (isKnownActor(ctx.db, followeeIri)) return followeeIri;
  const owner = findPolicyByIri(ctx.db, followeeIri)?.ownerIri;
  return owner && isKnownActor(ctx.db, owner) ? owner : undefined;
}

function refOf(follow: { followerIri: string; followeeIri: string; activityIri: string }) {
  return { followerIri: follow.followerIri, followeeIri: follow.followeeIri, activityIri: follow.activityIri };
}
