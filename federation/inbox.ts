/**
 * Inbox listeners. Before any of these runs, Fedify has verified the HTTP
 * signature (or proof) with a key our document loader vouched for (on the
 * actor's origin and listed by the actor: ./key-ownership.ts) and checked
 * that its owner is the activity's actor; `counted` has refused embedded
 * objects that claim another author; and Fedify drops re-deliveries of an
 * activity id it has already seen. Each handler is still idempotent.
 *
 * Fedify hands us activities by type; the routes below only say which
 * domain event an activity is (a Create of an Article is a published
 * version, of a Note answering one of our polls a partner's vote, ...) and
 * call that event's handler in ./inbox/. The handlers turn received objects
 * into rows through the entity modules (persistX) and record what they
 * cause as outbox effects in the same transaction.
 */
import type { Federation, InboxContext } from "@fedify/fedify";
import { Accept, Activity as ActivityClass, Announce, Article, Create, Delete, Document, Follow, Note, Offer, OrderedCollection, Question, Reject, Undo, Update, type Activity } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import type { InstanceData } from "./context.ts";
import { RefusedDocumentError } from "./fetch.ts";
import { onActorDeleted, onActorUpdated } from "./inbox/actors.ts";
import { isHeldAnnotation, onAnnotationCreated, onAnnotationDeleted, onAnnotationEdited, onAnnotationReshared } from "./inbox/annotations.ts";
import { onDatasetChanged, onRecordWithdrawn } from "./inbox/datasets.ts";
import { onFollowAccepted, onFollowRejected, onFollowRequested, onFollowUndone } from "./inbox/follows.ts";
import { onOfferDecided, onOfferReceived, onPartnerVote, onProposalOpened, onProposalUpdated, onVoteRefused } from "./inbox/participation.ts";
import { onForkAnnounced, onVersionPublished, onVersionRetracted } from "./inbox/versions.ts";
import { voteTarget } from "./proposals.ts";

const logger = getLogger(["fedalign", "federation", "inbox"]);

type Ctx = InboxContext<InstanceData>;

/** An Accept answers one of our offers or one of our follows. */
async function routeAccept(ctx: Ctx, accept: Accept): Promise<void> {
  if (await onOfferDecided(ctx, accept)) return;
  await onFollowAccepted(ctx, accept);
}

/** A Reject answers one of our offers, one of our members' votes, or one of our follows. */
async function routeReject(ctx: Ctx, reject: Reject): Promise<void> {
  if (await onOfferDecided(ctx, reject) || await onVoteRefused(ctx, reject)) return;
  await onFollowRejected(ctx, reject);
}

/**
 * A Delete is an actor deleting itself, or its author deleting one of:
 * a mirrored preference record, an annotation, a policy version.
 */
async function routeDelete(ctx: Ctx, del: Delete): Promise<void> {
  if (del.actorId == null || del.objectId == null) return;
  if (del.objectId.href === del.actorId.href) return await onActorDeleted(ctx, del);
  if (await onRecordWithdrawn(ctx, del)) return;
  if (await onAnnotationDeleted(ctx, del)) return;
  await onVersionRetracted(ctx, del);
}

/** A Note from its author: an edit when we hold it already. */
async function routeNote(ctx: Ctx, noteIri: string, actorIri: string): Promise<void> {
  if (await isHeldAnnotation(ctx, noteIri, actorIri)) await onAnnotationEdited(ctx, noteIri, actorIri);
  else await onAnnotationCreated(ctx, noteIri, actorIri);
}

/** A Create: a fork (Document), a proposal (Question), a vote or annotation (Note), a version (Article). */
async function routeCreate(ctx: Ctx, create: Create): Promise<void> {
  if (create.actorId == null || create.objectId == null) return;
  const object = await create.getObject(ctx);
  if (object instanceof Document) return onForkAnnounced(ctx, create);
  if (object instanceof Question) return await onProposalOpened(ctx, create, object);
  if (object instanceof Note) {
    // A poll answer to one of our proposals is a vote; any other Note may be an annotation.
    const vote = await voteTarget(ctx, object);
    if (vote) return await onPartnerVote(ctx, create, object, vote);
    return await routeNote(ctx, create.objectId.href, create.actorId.href);
  }
  if (object instanceof Article) return await onVersionPublished(ctx, create);
}

/** An Update: of the actor itself (its profile), a Note, a proposal, a dataset, or a version. */
async function routeUpdate(ctx: Ctx, update: Update): Promise<void> {
  if (update.actorId == null || update.objectId == null) return;
  if (update.objectId.href === update.actorId.href) return await onActorUpdated(ctx, update);
  const object = await update.getObject(ctx);
  if (object instanceof Note) return await routeNote(ctx, update.objectId.href, update.actorId.href);
  if (object instanceof Question) return await onProposalUpdated(ctx, update, object);
  if (object instanceof OrderedCollection) return await onDatasetChanged(ctx, update);
  if (object instanceof Article) return await onVersionPublished(ctx, update);
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
    .on(Follow, counted(onFollowRequested))
    .on(Accept, counted(routeAccept))
    .on(Reject, counted(routeReject))
    .on(Undo, counted(onFollowUndone))
    .on(Create, counted(routeCreate))
    .on(Offer, counted(onOfferReceived))
    .on(Announce, counted(onAnnotationReshared))
    .on(Delete, counted(routeDelete))
    .on(Update, counted(routeUpdate))
    .onError((_ctx, error) => logger.error("Inbox handler failed: {error}", { error }));
}

