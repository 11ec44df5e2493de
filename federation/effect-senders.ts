/**
 * How each federation effect (src/app/effects.ts) is carried out: the
 * activities it sends or the documents it fetches. The outbox dispatcher
 * (./outbox-dispatcher.ts) calls these after the change has committed.
 * A sender may run again after a crash that interrupted it, so it must
 * not depend on having run before; what it enqueues is written only if it
 * returns.
 */
import { getLogger } from "@logtape/logtape";
import type { AnnotationRef } from "../src/app/effects.ts";
import { findCommunity } from "../src/communities.ts";
import { findPolicyById, findPolicyByIri, findVersionById } from "../src/policies/policies.ts";
import { sendActorUpdate } from "./actors.ts";
import { sendAnnotation } from "./annotations.ts";
import type { FedCtx } from "./context.ts";
import { announceFork } from "./forks.ts";
import { sendVersionPublished, sendVersionRetracted } from "./policy-activities.ts";
import { mirrorFollowedDataset, backfillFromFollowed, reshareReceivedAnnotation, refuseVote } from "./inbox/effects.ts";
import type { EffectSenders } from "./outbox-dispatcher.ts";
import { sendFollow, sendFollowAnswer, sendUndoFollow } from "./outgoing.ts";
import { recipientByIri as recipientOf } from "./entities/actor.ts";

const logger = getLogger(["fedalign", "federation", "outbox"]);

async function sendAnnotationEffect(ctx: FedCtx, effect: AnnotationRef, kind: "create" | "update" | "delete"): Promise<void> {
  const policy = await findPolicyByIri(ctx.data.db, effect.policyIri);
  if (!policy) {
    logger.info("Not sending {kind} of {annotation}: its policy {policy} is no longer held.", { kind, annotation: effect.annotationIri, policy: effect.policyIri });
    return;
  }
  await sendAnnotation(ctx, effect.identifier, policy, { iri: effect.annotationIri, authorIri: effect.authorIri, note: effect.note }, kind);
}
import { sendOfferDecisionByIri, sendOfferByIri } from "./offers.ts";
import { sendProposalById, sendRecordedVote } from "./proposals.ts";
import { announceDatasetChanged, sendRecordWithdrawn } from "./preference-datasets.ts";

export const effectSenders: EffectSenders = {
  // Accounts and communities
  "actor.updated": async (ctx, effect) => await sendActorUpdate(ctx, effect.identifier),

  // Policies, versions, forks and merges
  "version.published": async (ctx, effect) => {
    const policy = await findPolicyById(ctx.data.db, effect.policyId);
    const version = await findVersionById(ctx.data.db, effect.versionId);
    if (policy && version) await sendVersionPublished(ctx, policy, version);
  },
  "version.retracted": async (ctx, effect) => {
    const policy = await findPolicyById(ctx.data.db, effect.policyId);
    const version = await findVersionById(ctx.data.db, effect.versionId);
    if (policy && version) await sendVersionRetracted(ctx, policy, version);
  },
  "fork.announced": async (ctx, effect) => {
    const fork = await findPolicyById(ctx.data.db, effect.forkId);
    const community = await findCommunity(ctx.data.db, effect.community);
    if (fork && community) await announceFork(ctx, fork, community);
  },

  // Proposals, votes and offers
  "proposal.opened": async (ctx, effect) => await sendProposalById(ctx, effect.proposalId, "create"),
  "proposal.closed": async (ctx, effect) => await sendProposalById(ctx, effect.proposalId, "update"),
  "vote.sent": async (ctx, effect) => await sendRecordedVote(ctx, effect.identifier, effect.sentVoteId),
  "offer.sent": async (ctx, effect) => await sendOfferByIri(ctx, effect.identifier, effect.offerIri),
  "offer.decided": async (ctx, effect) => await sendOfferDecisionByIri(ctx, effect.identifier, effect.offerIri),

  // Follows, annotations and other social traffic
  "follow.sent": async (ctx, effect) => sendFollow(ctx, effect.identifier, effect, await recipientOf(ctx, effect.recipientIri)),
  "follow.undone": async (ctx, effect) => sendUndoFollow(ctx, effect.identifier, effect, await recipientOf(ctx, effect.recipientIri)),
  "follow.answered": async (ctx, effect) =>
    sendFollowAnswer(ctx, effect.identifier, effect, await recipientOf(ctx, effect.recipientIri), effect.answer),
  "annotation.created": async (ctx, effect) => await sendAnnotationEffect(ctx, effect, "create"),
  "annotation.updated": async (ctx, effect) => await sendAnnotationEffect(ctx, effect, "update"),
  "annotation.deleted": async (ctx, effect) => await sendAnnotationEffect(ctx, effect, "delete"),

  // Preference data and bundles (a policy that is gone has no audience left to tell)
  "preferences.dataset-changed": async (ctx, effect) => {
    const policy = await findPolicyByIri(ctx.data.db, effect.policyIri);
    if (policy) await announceDatasetChanged(ctx, policy);
  },
  "preferences.record-withdrawn": async (ctx, effect) => {
    const policy = await findPolicyByIri(ctx.data.db, effect.policyIri);
    if (policy) await sendRecordWithdrawn(ctx, policy, effect.recordId);
  },

  // Caused by received activities
  "inbox.follow.backfill": backfillFromFollowed,
  "inbox.dataset.mirror": mirrorFollowedDataset,
  "inbox.vote.refuse": refuseVote,
  "inbox.annotation.reshare": reshareReceivedAnnotation,
};
