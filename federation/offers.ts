/**
 * Offers across instances. The change set is a document on the offering
 * community's origin (dual typed `Document` + `ChangeSet`); the `Offer`
 * names it, with the upstream policy as `target` and the fork as `origin`.
 * The upstream instance fetches it from that origin before listing it, and
 * answers with `Accept` or `Reject` (with the reason as content).
 */
import { Accept, Document, Offer as OfferActivity, Reject } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { changeSetSchema } from "../src/policies/changeset.ts";
import { REMOTE_LIMITS, overLimit } from "../src/limits.ts";
import { isBlocked } from "../src/policies/annotations.ts";
import { notifyOfferDecided } from "../src/app/notifications.ts";
import { findProposalFromOffer, proposalIri } from "../src/participation/proposals.ts";
import { findOffer, recordDecision, recordOffer, type Offer } from "../src/policies/offers.ts";
import { findPolicyByIri, isLocal, listVersions, type Policy } from "../src/policies/policies.ts";
import { DOCUMENT_CONTEXT, PUBLIC_AUDIENCE } from "../src/policies/version-document.ts";
import type { FedCtx } from "./context.ts";
import { loadDocument } from "./fetch.ts";
import { lookupActor } from "./lookup.ts";
import { newActivityIri } from "./outgoing.ts";
import { persistActor, toRecipient } from "./entities/actor.ts";

const logger = getLogger(["fedalign", "federation", "offers"]);

export function offerDocument(offer: Offer): Record<string, unknown> {
  return {
    "@context": DOCUMENT_CONTEXT,
    id: offer.iri,
    type: ["Document", "ChangeSet"],
    attributedTo: offer.actorIri,
    target: offer.targetIri,
    origin: offer.originIri,
    name: offer.message || "Proposed changes",
    changes: offer.changes,
    published: offer.createdAt.toISOString(),
  };
}

async function recipientFor(ctx: FedCtx, actorIri: string) {
  const actor = await lookupActor(ctx, actorIri);
  const row = await persistActor(ctx.data, actor);
  if (!row) throw new Error(`${actorIri} has no inbox`);
  return toRecipient(row);
}

export async function sendOffer(ctx: FedCtx, identifier: string, offer: Offer, upstream: Policy): Promise<void> {
  const actor = ctx.getActorUri(identifier);
  const activity = new OfferActivity({
    id: newActivityIri(ctx, identifier, "offer"),
    actor,
    object: new Document({ id: new URL(offer.iri), attribution: actor, name: offer.message || "Proposed changes" }),
    target: new URL(offer.targetIri),
    origin: new URL(offer.originIri),
    to: new URL(upstream.ownerIri),
    cc: new URL(PUBLIC_AUDIENCE),
  });
  await ctx.sendActivity({ identifier }, await recipientFor(ctx, upstream.ownerIri), activity);
}

/** Sends a recorded offer (src/app/offers.ts) to its target's owner; nothing when it or its target is gone. */
export async function sendOfferByIri(ctx: FedCtx, identifier: string, offerIri: string): Promise<void> {
  const offer = await findOffer(ctx.data.db, offerIri);
  const upstream = offer ? await findPolicyByIri(ctx.data.db, offer.targetIri) : undefined;
  if (offer && upstream) await sendOffer(ctx, identifier, offer, upstream);
}

/** Sends the recorded decision on an offer received (src/app/offers.ts). */
export async function sendOfferDecisionByIri(ctx: FedCtx, identifier: string, offerIri: string): Promise<void> {
  const offer = await findOffer(ctx.data.db, offerIri);
  if (offer && offer.state !== "pending") await sendOfferDecision(ctx, identifier, offer);
}

/** Upstream side: fetch the change set from the offering community's origin and list it. */
export async function receiveOffer(ctx: FedCtx, activity: OfferActivity): Promise<Offer | undefined> {
  const actorIri = activity.actorId?.href;
  const objectIri = activity.objectId?.href;
  if (!actorIri || !objectIri) return undefined;
  const refuse = (reason: string) => {
    logger.info("Refused offer {offer} from {actor}: {reason}.", { offer: objectIri, actor: actorIri, reason });
    return undefined;
  };
  if (new URL(objectIri).origin !== new URL(actorIri).origin) return refuse(`it is not on the origin of ${actorIri}`);
  const { document } = await loadDocument(ctx, objectIri, { fresh: true });
  const doc = document as { id?: unknown; type?: unknown; attributedTo?: unknown; target?: unknown; origin?: unknown; name?: unknown; changes?: unknown };
  const types = Array.isArray(doc?.type) ? doc.type : [doc?.type];
  if (!types.includes("ChangeSet") || doc.id !== objectIri || doc.attributedTo !== actorIri) return refuse("it is not a change set by its sender");
  const target = typeof doc.target === "string" ? await findPolicyByIri(ctx.data.db, doc.target) : undefined;
  if (!target || !isLocal(target)) return refuse("its target is not one of our policies");
  if (await isBlocked(ctx.data.db, target.communityId!, actorIri)) return refuse(`${actorIri} is blocked by the community`);
  if (typeof doc.origin !== "string" || new URL(doc.origin).origin !== new URL(actorIri).origin) return refuse("its origin is not the sender's fork");
  const changes = changeSetSchema.safeParse(doc.changes);
  if (!changes.success) return refuse(`its changes are malformed (${changes.error.issues[0]?.message})`);
  const tooBig =
    overLimit("its message", typeof doc.name === "string" ? doc.name : "", REMOTE_LIMITS.summary) ??
    (changes.data.operations.length > REMOTE_LIMITS.clausesPerVersion ? `${changes.data.operations.length} operations, over the limit of ${REMOTE_LIMITS.clausesPerVersion}` : undefined);
  if (tooBig) return refuse(tooBig);
  // The changes must be against one of our live versions.
  const base = (await listVersions(ctx.data.db, target)).find((v) => v.contentHash === changes.data.base.contentHash);
  if (!base || base.retractedAt) return refuse("it is based on an unknown or retracted version");
  const offer = await recordOffer(ctx.data.db, {
    iri: objectIri,
    direction: "incoming",
    targetIri: target.iri,
    originIri: doc.origin,
    actorIri,
    changes: changes.data,
    message: typeof doc.name === "string" ? doc.name : "",
  });
  logger.info("Received offer {offer} for {policy}.", { offer: offer.iri, policy: target.iri });
  return offer;
}

/** Upstream side: tell the offering community what was decided. */
export async function sendOfferDecision(ctx: FedCtx, identifier: string, offer: Offer): Promise<void> {
  const Answer = offer.state === "accepted" ? Accept : Reject;
  const activity = new Answer({
    id: newActivityIri(ctx, identifier, offer.state === "accepted" ? "accept" : "reject"),
    actor: ctx.getActorUri(identifier),
    object: new URL(offer.iri),
    // An offer accepted as a proposal: the proposal (its poll) is the result, so the offering side can link to it.
    result: await resultProposal(ctx, offer) ?? null,
    content: offer.reason ?? null,
    to: new URL(offer.actorIri),
  });
  await ctx.sendActivity({ identifier }, await recipientFor(ctx, offer.actorIri), activity);
}

async function resultProposal(ctx: FedCtx, offer: Offer): Promise<URL | undefined> {
  const proposal = offer.state === "accepted" ? await findProposalFromOffer(ctx.data.db, offer.iri) : undefined;
  const policy = proposal ? await findPolicyByIri(ctx.data.db, offer.targetIri) : undefined;
  return proposal && policy ? new URL(proposalIri(policy, proposal)) : undefined;
}

/**
 * Fork side: an Accept or Reject of one of our offers, from the upstream
 * community only. The decision is kept and the offering community's
 * stewards are told (with the proposal it became, when the upstream names
 * one on its own origin), in one transaction.
 */
export async function receiveOfferDecision(ctx: FedCtx, answer: Accept | Reject): Promise<boolean> {
  const offer = answer.objectId ? await findOffer(ctx.data.db, answer.objectId.href) : undefined;
  if (!offer || offer.direction !== "outgoing") return false;
  const upstream = await findPolicyByIri(ctx.data.db, offer.targetIri);
  if (!upstream || upstream.ownerIri !== answer.actorId?.href) {
    logger.info("Ignored an answer to {offer} from {actor}, who does not own its target.", { offer: offer.iri, actor: answer.actorId?.href });
    return true;
  }
  const reason = answer.content?.toString() ?? null;
  const accepted = answer instanceof Accept;
  const result = answer.resultId?.href;
  const proposal = result && new URL(result).origin === new URL(upstream.ownerIri).origin ? result : null;
  const { db, clock } = ctx.data;
  await db.transaction(async () => {
    if (await recordDecision(db, offer, accepted ? "accepted" : "rejected", reason) === offer) return;
    await notifyOfferDecided(db, ctx.canonicalOrigin, offer, { deciderIri: upstream.ownerIri, accepted, reason, proposalIri: proposal }, clock.now());
  });
  return true;
}
