/**
 * Inbox listeners. Fedify has verified the HTTP signature (or proof) and
 * that the signer owns the activity's actor before any of these runs, and
 * drops re-deliveries of an activity id it has already seen; each handler
 * is still idempotent on its own.
 */
import type { Federation, InboxContext } from "@fedify/fedify";
import { Accept, Delete, Follow, Reject, Undo, Update, isActor, type Activity } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { eq, or } from "drizzle-orm";
import { federatedActors, follows } from "../db/schema.ts";
import { findActorByIdentifier } from "../src/actors/local-actors.ts";
import {
  deleteFollow,
  findFollow,
  findFollowByActivity,
  recordIncomingFollow,
  setFollowState,
  type Follow as FollowRow,
} from "../src/follows.ts";
import type { InstanceData } from "./context.ts";
import { afterCommit, sendFollowAnswer } from "./outgoing.ts";
import { findFederatedActor, persistActor, resolveSender, toRecipient } from "./persist-actor.ts";

const logger = getLogger(["fedalign", "federation", "inbox"]);

type Ctx = InboxContext<InstanceData>;

export async function onFollow(ctx: Ctx, follow: Follow): Promise<void> {
  if (follow.id == null || follow.actorId == null || follow.objectId == null) return;
  const target = ctx.parseUri(follow.objectId);
  if (target?.type !== "actor") return;
  const local = findActorByIdentifier(ctx.data.db, target.identifier);
  if (!local) return;
  const cached = await resolveSender(ctx, follow.actorId, () => follow.getActor(ctx));
  if (!cached) {
    logger.warn("Ignoring Follow {id}: its actor could not be fetched.", { id: follow.id.href });
    return;
  }
  const follower = toRecipient(cached);
  const followRow: FollowRow = recordIncomingFollow(ctx.data.db, {
    followerIri: follow.actorId.href,
    followeeIri: follow.objectId.href,
    activityIri: follow.id.href,
    // The instance actor never takes followers; the others accept unless set to approve by hand.
    autoAccept: local.kind !== "instance" && !local.manuallyApprovesFollowers,
  });
  if (local.kind === "instance") {
    setFollowState(ctx.data.db, followRow.id, "rejected");
    await afterCommit("reject a Follow of the instance actor", () =>
      sendFollowAnswer(ctx, target.identifier, followRow, follower, "reject"),
    );
  } else if (followRow.state === "accepted") {
    await afterCommit("accept a Follow", () => sendFollowAnswer(ctx, target.identifier, followRow, follower, "accept"));
  }
}

/**
 * Finds the Follow an Accept or Reject answers. Its actor must be the
 * followee: an actor can only answer follows of itself.
 */
function answeredFollow(ctx: Ctx, answer: Accept | Reject): FollowRow | undefined {
  if (answer.actorId == null) return undefined;
  const byId = answer.objectId ? findFollowByActivity(ctx.data.db, answer.objectId.href) : undefined;
  if (byId) return byId.followeeIri === answer.actorId.href ? byId : undefined;
  // Some servers answer with their own id for our Follow; fall back to the pair.
  if (ctx.recipient == null) return undefined;
  const pending = findFollow(ctx.data.db, ctx.getActorUri(ctx.recipient).href, answer.actorId.href);
  return pending?.state === "pending" ? pending : undefined;
}

export async function onAccept(ctx: Ctx, accept: Accept): Promise<void> {
  const follow = answeredFollow(ctx, accept);
  if (follow && follow.state !== "accepted") setFollowState(ctx.data.db, follow.id, "accepted");
}

export async function onReject(ctx: Ctx, reject: Reject): Promise<void> {
  const follow = answeredFollow(ctx, reject);
  if (follow) setFollowState(ctx.data.db, follow.id, "rejected");
}

export async function onUndo(ctx: Ctx, undo: Undo): Promise<void> {
  if (undo.actorId == null || undo.objectId == null) return;
  let follow = findFollowByActivity(ctx.data.db, undo.objectId.href);
  if (!follow) {
    // The Undo may name a Follow we stored under another id; the embedded
    // object (same origin as the Undo, so Fedify does not re-fetch) says which.
    const object = await undo.getObject(ctx);
    if (object instanceof Follow && object.objectId) {
      follow = findFollow(ctx.data.db, undo.actorId.href, object.objectId.href);
    }
  }
  // Only the follower can undo its own follow.
  if (follow && follow.followerIri === undo.actorId.href) deleteFollow(ctx.data.db, follow.id);
}

/** An actor that deletes itself takes its follow relations with it. */
export async function onDelete(ctx: Ctx, del: Delete): Promise<void> {
  if (del.actorId == null || del.objectId?.href !== del.actorId.href) return;
  const iri = del.actorId.href;
  ctx.data.db.transaction((tx) => {
    tx.delete(follows).where(or(eq(follows.followerIri, iri), eq(follows.followeeIri, iri))).run();
    tx.delete(federatedActors).where(eq(federatedActors.iri, iri)).run();
  });
}

/** Profile updates refresh our cached copy of the actor. */
export async function onUpdate(ctx: Ctx, update: Update): Promise<void> {
  if (update.actorId == null || update.objectId?.href !== update.actorId.href) return;
  if (!findFederatedActor(ctx.data.db, update.actorId.href)) return;
  const actor = await update.getObject(ctx);
  if (isActor(actor) && actor.id?.href === update.actorId.href) persistActor(ctx.data.db, actor);
}

/** Counts handled activities (for the inbox benchmark and /metrics). */
function counted<A extends Activity>(handler: (ctx: Ctx, activity: A) => Promise<void>) {
  return async (ctx: Ctx, activity: A) => {
    try {
      await handler(ctx, activity);
      ctx.data.inboxStats.processed++;
    } catch (error) {
      ctx.data.inboxStats.failed++;
      throw error;
    }
  };
}

export function registerInbox(federation: Federation<InstanceData>): void {
  federation
    .setInboxListeners("/actors/{identifier}/inbox", "/inbox")
    .on(Follow, counted(onFollow))
    .on(Accept, counted(onAccept))
    .on(Reject, counted(onReject))
    .on(Undo, counted(onUndo))
    .on(Delete, counted(onDelete))
    .on(Update, counted(onUpdate))
    .onError((_ctx, error) => logger.error("Inbox handler failed: {error}", { error }));
}

