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
export async function listFollowingOf(ctx: AppContext, viewer: Viewer, as?: string): Promise<FollowWithActor[]> {
  return await listFollowing(ctx.db, (await actingAs(ctx, viewer, as)).iri);
}

/** Who follows you (or a community you steward), pending requests included. */
export async function listFollowersOf(ctx: AppContext, viewer: Viewer, as?: string, state?: FollowState): Promise<FollowWithActor[]> {
  return await listFollowers(ctx.db, (await actingAs(ctx, viewer, as)).iri, state);
}

/** Follows an actor (by @handle@host or URL) or a remote policy; pending until the other side accepts. */
export async function followTarget(ctx: AppContext, viewer: Viewer, input: { target: string; as?: string }): Promise<FollowWithActor> {
  const me = await actingAs(ctx, viewer, input.as);
  const target = await ctx.federation.lookupFollowTarget(input.target);
  if (target.followeeIri === me.iri) throw new InvalidInputError("An actor cannot follow itself.");
  return await ctx.db.transaction(async () => {
    if (target.policy) await rememberFollowedPolicy(ctx.db, target.policy);
    const follow = await recordOutgoingFollow(ctx.db, {
      followerIri: me.iri,
      followeeIri: target.followeeIri,
      activityIri: `${me.iri}#follows/${crypto.randomUUID()}`,
    });
    await recordEffect(ctx.db, { kind: "follow.sent", identifier: me.identifier, ...refOf(follow), recipientIri: target.answererIri }, ctx.clock.now());
    return (await followWithActor(ctx.db, follow.id, "followee"))!;
  });
}

/** Stops following (an Undo goes to the followee, or a followed policy's community, when known). Returns the removed follow. */
export async function unfollow(ctx: AppContext, viewer: Viewer, id: number, as?: string): Promise<FollowWithActor> {
  const me = await actingAs(ctx, viewer, as);
  const follow = await findFollowById(ctx.db, id);
  if (!follow || follow.followerIri !== me.iri) throw new NotFoundError(`You do not follow anything with id ${id}; see \`fedalign following\`.`);
  return await ctx.db.transaction(async () => {
    const removed = (await followWithActor(ctx.db, follow.id, "followee"))!;
    await deleteFollow(ctx.db, follow.id);
    const recipientIri = await undoRecipient(ctx, follow.followeeIri);
    if (recipientIri) await recordEffect(ctx.db, { kind: "follow.undone", identifier: me.identifier, ...refOf(follow), recipientIri }, ctx.clock.now());
    return removed;
  });
}

/** Accepts or refuses a follow request (refusing an accepted follower removes them). */
export async function answerFollowRequest(ctx: AppContext, viewer: Viewer, id: number, answer: "accept" | "reject", as?: string): Promise<FollowWithActor> {
  const me = await actingAs(ctx, viewer, as);
  const follow = await findFollowById(ctx.db, id);
  if (!follow || follow.followeeIri !== me.iri) throw new NotFoundError(`No follow request with id ${id}; see \`fedalign followers\`.`);
  if (!await isKnownActor(ctx.db, follow.followerIri)) throw new ForbiddenError("The follower's profile is unknown; ask them to follow again.");
  return await ctx.db.transaction(async () => {
    const updated = await setFollowState(ctx.db, follow.id, answer === "accept" ? "accepted" : "rejected");
    await recordEffect(
      ctx.db,
      { kind: "follow.answered", answer, identifier: me.identifier, ...refOf(updated), recipientIri: updated.followerIri },
      ctx.clock.now(),
    );
    return (await followWithActor(ctx.db, updated.id, "follower"))!;
  });
}

/**
 * Who must hear of an Undo: the followed actor, or for a followed policy the
 * community that owns it (which answered the Follow). Nobody when we never
 * learnt who that is.
 */
async function undoRecipient(ctx: AppContext, followeeIri: string): Promise<string | undefined> {
  if (await isKnownActor(ctx.db, followeeIri)) return followeeIri;
  const owner = (await findPolicyByIri(ctx.db, followeeIri))?.ownerIri;
  return owner && await isKnownActor(ctx.db, owner) ? owner : undefined;
}

function refOf(follow: { followerIri: string; followeeIri: string; activityIri: string }) {
  return { followerIri: follow.followerIri, followeeIri: follow.followeeIri, activityIri: follow.activityIri };
}
