/**
 * Inbox listeners. Before any of these runs, Fedify has verified the HTTP
 * signature (or proof) with a key our document loader vouched for (on the
 * actor's origin and listed by the actor: ./key-ownership.ts) and checked
 * that its owner is the activity's actor; `counted` has refused embedded
 * objects that claim another author; and Fedify drops re-deliveries of an
 * activity id it has already seen. Each handler is still idempotent.
 */
import type { Federation, InboxContext } from "@fedify/fedify";
import { Accept, Activity as ActivityClass, Announce, Article, Create, Delete, Document, Follow, Note, Offer, OrderedCollection, Question, Reject, Undo, Update, isActor, type Activity } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { eq, or } from "drizzle-orm";
import { federatedActors, follows } from "../db/schema.ts";
import { findActorByIdentifier, type LocalActor } from "../src/actors/local-actors.ts";
import { findPolicyByIri, isLocal } from "../src/policies/policies.ts";
import {
  deleteFollow,
  findFollow,
  findFollowByActivity,
  recordIncomingFollow,
  rememberUndoneFollow,
  setFollowState,
  wasUndone,
  type Follow as FollowRow,
} from "../src/follows.ts";
import type { InstanceData } from "./context.ts";
import { RefusedDocumentError } from "./fetch.ts";
import { afterCommit, sendFollowAnswer } from "./outgoing.ts";
import { findFederatedActor, persistActor, resolveSender, toRecipient } from "./persist-actor.ts";
import { receivePolicyVersion, retractReceivedVersion } from "./persist-policy.ts";
import { receiveForkAnnouncement } from "./forks.ts";
import { backfillFollowed } from "./backfill.ts";
import { receiveOffer, receiveOfferDecision } from "./offers.ts";
import { forwardToAudience, receiveAnnotation, receiveReshare, reshareAnnotation } from "./annotations.ts";
import { deleteAnnotation } from "../src/policies/annotations.ts";
import { datasetIri, dropMirroredRecord, syncDataset } from "./preference-datasets.ts";
import { receivePartnerVote, receiveProposal, receiveVoteRefusal, sendVoteRefusal } from "./proposals.ts";

const logger = getLogger(["fedalign", "federation", "inbox"]);

type Ctx = InboxContext<InstanceData>;

/**
 * What a Follow is for: one of our actors, or one of our communities'
 * policies (then the community answers). Undefined when it is neither.
 */
function followTarget(ctx: Ctx, object: URL): { answerer: LocalActor; followeeIri: string } | undefined {
  const parsed = ctx.parseUri(object);
  if (parsed?.type === "actor") {
    const actor = findActorByIdentifier(ctx.data.db, parsed.identifier);
    return actor ? { answerer: actor, followeeIri: object.href } : undefined;
  }
  const policy = findPolicyByIri(ctx.data.db, object.href);
  if (!policy || !isLocal(policy)) return undefined;
  const owner = ctx.parseUri(new URL(policy.ownerIri));
  const community = owner?.type === "actor" ? findActorByIdentifier(ctx.data.db, owner.identifier) : undefined;
  return community ? { answerer: community, followeeIri: policy.iri } : undefined;
}

export async function onFollow(ctx: Ctx, follow: Follow): Promise<void> {
  if (follow.id == null || follow.actorId == null || follow.objectId == null) return;
  if (wasUndone(ctx.data.db, follow.id.href, follow.actorId.href)) {
    logger.info("Ignored Follow {id} from {actor}: it was undone before it arrived.", { id: follow.id.href, actor: follow.actorId.href });
    return;
  }
  const target = followTarget(ctx, follow.objectId);
  if (!target) return;
  const { answerer } = target;
  const cached = await resolveSender(ctx, follow.actorId, () => follow.getActor(ctx));
  if (!cached) {
    logger.info("Ignored Follow {id} from {actor}: its actor could not be fetched or was refused.", { id: follow.id.href, actor: follow.actorId.href });
    return;
  }
  const follower = toRecipient(cached);
  const followRow: FollowRow = recordIncomingFollow(ctx.data.db, {
    followerIri: follow.actorId.href,
    followeeIri: target.followeeIri,
    activityIri: follow.id.href,
    // The instance actor never takes followers; the others accept unless set to approve by hand.
    autoAccept: answerer.kind !== "instance" && !answerer.manuallyApprovesFollowers,
  });
  if (answerer.kind === "instance") {
    setFollowState(ctx.data.db, followRow.id, "rejected");
    await afterCommit("reject a Follow of the instance actor", () =>
      sendFollowAnswer(ctx, answerer.identifier, followRow, follower, "reject"),
    );
  } else if (followRow.state === "accepted") {
    await afterCommit("accept a Follow", () => sendFollowAnswer(ctx, answerer.identifier, followRow, follower, "accept"));
  }
}

/**
 * Finds the Follow an Accept or Reject answers. Its actor must be the
 * followee: an actor can only answer follows of itself.
 */
function answeredFollow(ctx: Ctx, answer: Accept | Reject): FollowRow | undefined {
  if (answer.actorId == null) return undefined;
  const byId = answer.objectId ? findFollowByActivity(ctx.data.db, answer.objectId.href) : undefined;
  if (byId) return answersFor(ctx, byId.followeeIri, answer.actorId.href) ? byId : undefined;
  // Some servers answer with their own id for our Follow; fall back to the pair.
  if (ctx.recipient == null) return undefined;
  const pending = findFollow(ctx.data.db, ctx.getActorUri(ctx.recipient).href, answer.actorId.href);
  return pending?.state === "pending" ? pending : undefined;
}

/** An actor answers for itself, and a community for its policies. */
function answersFor(ctx: Ctx, followeeIri: string, actorIri: string): boolean {
  if (followeeIri === actorIri) return true;
  return findPolicyByIri(ctx.data.db, followeeIri)?.ownerIri === actorIri;
}

export async function onAccept(ctx: Ctx, accept: Accept): Promise<void> {
  if (receiveOfferDecision(ctx, accept)) return;
  const follow = answeredFollow(ctx, accept);
  if (!follow || follow.state === "accepted") return;
  setFollowState(ctx.data.db, follow.id, "accepted");
  // What it already published shows now, not at its next publish.
  await afterCommit("backfill what a followed actor or policy published", async () => {
    const held = await backfillFollowed(ctx, follow.followeeIri);
    logger.info("Backfilled {count} version(s) from {followee}.", { count: held, followee: follow.followeeIri });
  });
  // A newly followed policy: take its preference dataset now rather than at its next change.
  const policy = findPolicyByIri(ctx.data.db, follow.followeeIri);
  if (policy && !isLocal(policy)) {
    await afterCommit("mirror a followed policy's preference dataset", async () => {
      await syncDataset(ctx, datasetIri(policy), policy.ownerIri);
    });
  }
}

export async function onReject(ctx: Ctx, reject: Reject): Promise<void> {
  if (receiveOfferDecision(ctx, reject)) return;
  if (receiveVoteRefusal(ctx, reject)) return;
  const follow = answeredFollow(ctx, reject);
  if (follow) setFollowState(ctx.data.db, follow.id, "rejected");
}

export async function onUndo(ctx: Ctx, undo: Undo): Promise<void> {
  if (undo.actorId == null || undo.objectId == null) return;
  let follow = findFollowByActivity(ctx.data.db, undo.objectId.href);
  if (!follow) {
    // The Undo may name a Follow we stored under another id; the embedded
    // object (same origin as the Undo, so Fedify does not re-fetch) says which.
    const object = await undo.getObject({ documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader, suppressError: true });
    if (object instanceof Follow && object.objectId) {
      follow = findFollow(ctx.data.db, undo.actorId.href, object.objectId.href);
    }
    if (!follow && (object == null || object instanceof Follow)) {
      // An Undo overtaking its Follow (deliveries are not ordered): remember it, see onFollow.
      rememberUndoneFollow(ctx.data.db, undo.objectId.href, undo.actorId.href);
      return;
    }
  }
  // Only the follower can undo its own follow.
  if (follow && follow.followerIri === undo.actorId.href) deleteFollow(ctx.data.db, follow.id);
}

/**
 * A community retracting a policy version; or an actor deleting itself,
 * which takes its follow relations with it.
 */
export async function onDelete(ctx: Ctx, del: Delete): Promise<void> {
  if (del.actorId == null || del.objectId == null) return;
  if (del.objectId.href !== del.actorId.href) {
    if (dropMirroredRecord(ctx, del.objectId.href, del.actorId.href)) return;
    // Only the author can delete an annotation; where the community re-shared it, the deletion follows.
    const deleted = deleteAnnotation(ctx.data.db, del.objectId.href, del.actorId.href);
    if (deleted) {
      const policy = findPolicyByIri(ctx.data.db, deleted.policyIri);
      if (policy && isLocal(policy)) await afterCommit("forward an annotation's deletion", () => forwardToAudience(ctx, policy));
      return;
    }
    retractReceivedVersion(ctx, del.objectId.href, del.actorId.href);
    return;
  }
  const iri = del.actorId.href;
  ctx.data.db.transaction((tx) => {
    tx.delete(follows).where(or(eq(follows.followerIri, iri), eq(follows.followeeIri, iri))).run();
    tx.delete(federatedActors).where(eq(federatedActors.iri, iri)).run();
  });
}

/**
 * A version announced as an `Article`: fetch the signed document from its
 * origin and keep it if every check passes (federation/persist-policy.ts).
 */
async function receiveAnnouncedVersion(ctx: Ctx, activity: Create | Update): Promise<void> {
  if (activity.actorId == null || activity.objectId == null) return;
  const object = await activity.getObject(ctx);
  if (!(object instanceof Article)) return;
  await receivePolicyVersion(ctx, activity.objectId.href, activity.actorId.href);
}

/** A new policy version (an Article), or a community telling us it forked one of ours (a Document). */
export async function onCreate(ctx: Ctx, create: Create): Promise<void> {
  if (create.actorId == null || create.objectId == null) return;
  const object = await create.getObject(ctx);
  if (object instanceof Document) {
    await receiveForkAnnouncement(ctx, create.objectId.href, create.actorId.href);
    return;
  }
  if (object instanceof Question) {
    await receiveProposal(ctx, object, create.objectId.href, create.actorId.href);
    return;
  }
  if (object instanceof Note) {
    // A poll answer to one of our proposals is a vote; any other Note may be an annotation.
    const vote = receivePartnerVote(ctx, object, create.actorId.href);
    if (vote.vote) {
      if (vote.refused) await refuseVote(ctx, create, create.actorId, vote.refused);
      return;
    }
    await onAnnotationNote(ctx, create.objectId.href, create.actorId.href);
    return;
  }
  await receiveAnnouncedVersion(ctx, create);
}

/** Tells the voter's server why its vote was not counted. */
async function refuseVote(ctx: Ctx, create: Create, voterIri: URL, reason: string): Promise<void> {
  const voter = await resolveSender(ctx, voterIri, () => create.getActor(ctx));
  if (voter) await afterCommit("send a vote's refusal", () => sendVoteRefusal(ctx, create, toRecipient(voter), reason));
}

/**
 * A Note replying to one of the clauses or versions we hold: an annotation.
 * The owning community re-shares a new one; an edit is passed on.
 */
async function onAnnotationNote(ctx: Ctx, noteIri: string, actorIri: string): Promise<void> {
  const received = await receiveAnnotation(ctx, noteIri, actorIri);
  if (!received || !isLocal(received.policy)) return;
  if (received.created) {
    await afterCommit("re-share an annotation", () => reshareAnnotation(ctx, received.policy, received.annotation));
  } else {
    await afterCommit("forward an annotation edit", () => forwardToAudience(ctx, received.policy));
  }
}

/** The owning community re-sharing an annotation (or anything else: ignored). */
export async function onAnnounce(ctx: Ctx, announce: Announce): Promise<void> {
  if (announce.actorId == null || announce.objectId == null) return;
  await receiveReshare(ctx, announce.objectId.href, announce.actorId.href);
}

/** Profile updates refresh our cached copy of the actor; other updates may be new versions. */
export async function onUpdate(ctx: Ctx, update: Update): Promise<void> {
  if (update.actorId == null || update.objectId == null) return;
  if (update.objectId.href !== update.actorId.href) {
    const object = await update.getObject(ctx);
    if (object instanceof Note) await onAnnotationNote(ctx, update.objectId.href, update.actorId.href);
    else if (object instanceof Question) await receiveProposal(ctx, object, update.objectId.href, update.actorId.href);
    else if (object instanceof OrderedCollection) await syncDataset(ctx, update.objectId.href, update.actorId.href);
    else await receiveAnnouncedVersion(ctx, update);
    return;
  }
  if (!findFederatedActor(ctx.data.db, update.actorId.href)) return;
  const actor = await update.getObject(ctx);
  if (isActor(actor) && actor.id?.href === update.actorId.href) persistActor(ctx.data, actor);
}

/** An amendment offered to one of our policies by a fork's community. */
export async function onOffer(ctx: Ctx, offer: Offer): Promise<void> {
  await receiveOffer(ctx, offer);
}

/** Thrown instead of fetching: an object given only by IRI is not embedded, so it claims nothing here. */
class NotEmbedded extends Error {}
const notEmbedded = async (): Promise<never> => {
  throw new NotEmbedded();
};

/**
 * An activity may embed only objects by its own actor: a Create, Update,
 * Delete, Undo or Offer whose embedded object names another author (or,
 * for an embedded activity, another actor) speaks for someone else, on
 * whatever origin the object claims to be. Announce, Accept and Reject
 * carry other actors' objects by design; their handlers take those by IRI
 * from their own origin.
 */
async function foreignAuthorClaim(ctx: Ctx, activity: Activity): Promise<string | undefined> {
  if (activity instanceof Announce || activity instanceof Accept || activity instanceof Reject) return undefined;
  const actor = activity.actorId?.href;
  if (!actor) return undefined;
  let object;
  try {
    // "trust": read the embedded object as sent, whatever its origin, without re-fetching it.
    object = await activity.getObject({ crossOrigin: "trust", documentLoader: notEmbedded, contextLoader: ctx.contextLoader });
  } catch (error) {
    if (error instanceof NotEmbedded) return undefined;
    throw error;
  }
  if (!object) return undefined;
  const claimed = [...object.attributionIds, ...(object instanceof ActivityClass ? object.actorIds : [])].map((id) => id.href);
  const foreign = claimed.find((author) => author !== actor);
  return foreign ? `its embedded ${object.id?.href ?? "object"} claims ${foreign} as author, not ${actor}` : undefined;
}

/**
 * Runs a listener after the checks every activity needs (one place, before
 * any handler), and counts handled activities (for the inbox benchmark and
 * /metrics). A refused remote document is final: logged (once, where it was
 * refused) and not retried.
 */
function counted<A extends Activity>(handler: (ctx: Ctx, activity: A) => Promise<void>) {
  return async (ctx: Ctx, activity: A) => {
    try {
      const claim = await foreignAuthorClaim(ctx, activity);
      if (claim) {
        logger.info("Refused {activity} from {actor}: {reason}.", { activity: activity.id?.href, actor: activity.actorId?.href, reason: claim });
      } else {
        await handler(ctx, activity);
      }
      ctx.data.inboxStats.processed++;
    } catch (error) {
      if (error instanceof RefusedDocumentError) {
        ctx.data.inboxStats.processed++;
        return;
      }
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
    .on(Create, counted(onCreate))
    .on(Offer, counted(onOffer))
    .on(Announce, counted(onAnnounce))
    .on(Delete, counted(onDelete))
    .on(Update, counted(onUpdate))
    .onError((_ctx, error) => logger.error("Inbox handler failed: {error}", { error }));
}

