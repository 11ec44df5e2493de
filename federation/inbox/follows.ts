/**
 * Follow relations, received: someone asks to follow one of our actors or
 * policies, answers one of our follows, or takes a follow back. Each
 * handler makes its row change and records what it causes (the answer, a
 * backfill, a dataset mirror) in one transaction (src/app/outbox.ts).
 */
import type { InboxContext } from "@fedify/fedify";
import type { Accept, Follow, Reject, Undo } from "@fedify/vocab";
import { Follow as FollowActivity } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { notifyFollowRequested } from "../../src/app/notifications.ts";
import { recordEffect } from "../../src/app/outbox.ts";
import type { Effect } from "../../src/app/effects.ts";
import { findActorByIdentifier, type LocalActor } from "../../src/actors/local-actors.ts";
import {
  deleteFollow,
  findFollow,
  findFollowByActivity,
  rememberUndoneFollow,
  setFollowState,
  wasUndone,
  type Follow as FollowRow,
} from "../../src/follows.ts";
import { findPolicyByIri, isLocal } from "../../src/policies/policies.ts";
import type { InstanceData } from "../context.ts";
import { resolveSender } from "../entities/actor.ts";
import { persistFollow } from "../entities/follow.ts";
import { datasetIri } from "../preference-datasets.ts";

const logger = getLogger(["fedalign", "federation", "inbox"]);

type Ctx = InboxContext<InstanceData>;

/**
 * What a Follow is for: one of our actors, or one of our communities'
 * policies (then the community answers). Undefined when it is neither.
 */
async function followTarget(ctx: Ctx, object: URL): Promise<{ answerer: LocalActor; followeeIri: string } | undefined> {
  const parsed = ctx.parseUri(object);
  if (parsed?.type === "actor") {
    const actor = await findActorByIdentifier(ctx.data.db, parsed.identifier);
    return actor ? { answerer: actor, followeeIri: object.href } : undefined;
  }
  const policy = await findPolicyByIri(ctx.data.db, object.href);
  if (!policy || !isLocal(policy)) return undefined;
  const owner = ctx.parseUri(new URL(policy.ownerIri));
  const community = owner?.type === "actor" ? await findActorByIdentifier(ctx.data.db, owner.identifier) : undefined;
  return community ? { answerer: community, followeeIri: policy.iri } : undefined;
}

/**
 * Someone asks to follow one of our actors or policies. The instance actor
 * refuses; the others accept unless set to approve followers by hand (then
 * the follow waits as pending). The answer is recorded with the row.
 */
export async function onFollowRequested(ctx: Ctx, follow: Follow): Promise<void> {
  if (follow.id == null || follow.actorId == null || follow.objectId == null) return;
  const { db, clock } = ctx.data;
  if (await wasUndone(db, follow.id.href, follow.actorId.href, clock.now())) {
    logger.info("Ignored Follow {id} from {actor}: it was undone before it arrived.", { id: follow.id.href, actor: follow.actorId.href });
    return;
  }
  const target = await followTarget(ctx, follow.objectId);
  if (!target) return;
  const { answerer } = target;
  // The follower's inbox, cached for the answer (the signature proved who sent it).
  const cached = await resolveSender(ctx, follow.actorId, () => follow.getActor(ctx));
  if (!cached) {
    logger.info("Ignored Follow {id} from {actor}: its actor could not be fetched or was refused.", { id: follow.id.href, actor: follow.actorId.href });
    return;
  }
  const followerIri = follow.actorId.href;
  const activityIri = follow.id.href;
  await db.transaction(async () => {
    // The instance actor never takes followers; the others accept unless set to approve by hand.
    const row = await persistFollow(db, { activityIri, followerIri }, target.followeeIri, answerer.kind !== "instance" && !answerer.manuallyApprovesFollowers);
    const answer = (kind: "accept" | "reject"): Effect => ({
      kind: "follow.answered",
      identifier: answerer.identifier,
      activityIri: row.activityIri,
      followerIri: row.followerIri,
      followeeIri: row.followeeIri,
      recipientIri: row.followerIri,
      answer: kind,
    });
    if (answerer.kind === "instance") {
      await setFollowState(db, row.id, "rejected");
      await recordEffect(db, answer("reject"), clock.now());
    } else if (row.state === "accepted") {
      await recordEffect(db, answer("accept"), clock.now());
    } else if (row.state === "pending") {
      await notifyFollowRequested(db, ctx.canonicalOrigin, row, ctx.getActorUri(answerer.identifier).href, clock.now());
    }
  });
}

/**
 * Finds the Follow an Accept or Reject answers. Its actor must be the
 * followee: an actor can only answer follows of itself.
 */
export async function answeredFollow(ctx: Ctx, answer: Accept | Reject): Promise<FollowRow | undefined> {
  if (answer.actorId == null) return undefined;
  const byId = answer.objectId ? await findFollowByActivity(ctx.data.db, answer.objectId.href) : undefined;
  if (byId) return await answersFor(ctx, byId.followeeIri, answer.actorId.href) ? byId : undefined;
  // Some servers answer with their own id for our Follow; fall back to the pair.
  if (ctx.recipient == null) return undefined;
  const pending = await findFollow(ctx.data.db, ctx.getActorUri(ctx.recipient).href, answer.actorId.href);
  return pending?.state === "pending" ? pending : undefined;
}

/** An actor answers for itself, and a community for its policies. */
async function answersFor(ctx: Ctx, followeeIri: string, actorIri: string): Promise<boolean> {
  if (followeeIri === actorIri) return true;
  return (await findPolicyByIri(ctx.data.db, followeeIri))?.ownerIri === actorIri;
}

/**
 * One of our follows was accepted: what the followee already published is
 * taken now (not at its next publish), and a followed policy's preference
 * dataset is mirrored. Both are fetches the outbox retries until they work.
 */
export async function onFollowAccepted(ctx: Ctx, accept: Accept): Promise<void> {
  const { db, clock } = ctx.data;
  const follow = await answeredFollow(ctx, accept);
  if (!follow || follow.state === "accepted") return;
  const policy = await findPolicyByIri(db, follow.followeeIri);
  await db.transaction(async () => {
    await setFollowState(db, follow.id, "accepted");
    const effects: Effect[] = [{ kind: "inbox.follow.backfill", followeeIri: follow.followeeIri }];
    if (policy && !isLocal(policy)) effects.push({ kind: "inbox.dataset.mirror", datasetIri: datasetIri(policy), ownerIri: policy.ownerIri });
    await recordEffect(db, effects, clock.now());
  });
}

export async function onFollowRejected(ctx: Ctx, reject: Reject): Promise<boolean> {
  const follow = await answeredFollow(ctx, reject);
  if (!follow) return false;
  await setFollowState(ctx.data.db, follow.id, "rejected");
  return true;
}

/** The follower takes its follow back (an Undo may overtake its Follow: then it is remembered). */
export async function onFollowUndone(ctx: Ctx, undo: Undo): Promise<void> {
  if (undo.actorId == null || undo.objectId == null) return;
  const { db, clock } = ctx.data;
  let follow = await findFollowByActivity(db, undo.objectId.href);
  if (!follow) {
    // The Undo may name a Follow we stored under another id; the embedded
    // object (same origin as the Undo, so Fedify does not re-fetch) says which.
    const object = await undo.getObject({ documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader, suppressError: true });
    if (object instanceof FollowActivity && object.objectId) {
      follow = await findFollow(db, undo.actorId.href, object.objectId.href);
    }
    if (!follow && (object == null || object instanceof FollowActivity)) {
      // An Undo overtaking its Follow (deliveries are not ordered): remember it, see onFollowRequested.
      await rememberUndoneFollow(db, undo.objectId.href, undo.actorId.href, clock.now());
      return;
    }
  }
  // Only the follower can undo its own follow.
  if (follow && follow.followerIri === undo.actorId.href) await deleteFollow(db, follow.id);
}
