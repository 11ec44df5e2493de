/**
 * Proposals, partner votes and offers, received. A followed community's
 * proposal opened or closed; a partner instance's member voted on one of
 * our proposals (a poll answer); a community refused one of our members'
 * votes; a fork offered changes to one of our policies, or upstream decided
 * on one of our offers.
 */
import type { InboxContext } from "@fedify/fedify";
import type { Accept, Create, Note, Offer, Question, Reject, Update } from "@fedify/vocab";
import { recordEffect } from "../../src/app/outbox.ts";
import type { InstanceData } from "../context.ts";
import { receiveOffer, receiveOfferDecision } from "../offers.ts";
import { persistPartnerVote, receiveProposal, receiveVoteRefusal, voteAnswerer, type VoteTarget } from "../proposals.ts";

type Ctx = InboxContext<InstanceData>;

/** A followed community opened a proposal on a policy we hold (a `Question`, shown as a poll). */
export async function onProposalOpened(ctx: Ctx, create: Create, question: Question): Promise<void> {
  if (create.actorId == null || create.objectId == null) return;
  await receiveProposal(ctx, question, create.objectId.href, create.actorId.href);
}

/** A followed community's proposal changed (closed with its tally, or its running count). */
export async function onProposalUpdated(ctx: Ctx, update: Update, question: Question): Promise<void> {
  if (update.actorId == null || update.objectId == null) return;
  await receiveProposal(ctx, question, update.objectId.href, update.actorId.href);
}

/**
 * A partner's member answered the poll of one of our proposals. Counted, or
 * refused; a refusal is told to the voter's server (a recorded effect).
 */
export async function onPartnerVote(ctx: Ctx, create: Create, note: Note, target: VoteTarget): Promise<void> {
  if (create.actorId == null || create.id == null) return;
  const { db, clock } = ctx.data;
  const voterIri = create.actorId.href;
  const createIri = create.id.href;
  await db.transaction(async () => {
    const refused = await persistPartnerVote(ctx, target, note, voterIri);
    const identifier = refused === undefined ? undefined : await voteAnswerer(ctx, target.proposalIri);
    if (refused !== undefined && identifier) {
      await recordEffect(db, { kind: "inbox.vote.refuse", identifier, createIri, voterIri, reason: refused }, clock.now());
    }
  });
}

/** A community refused one of our members' votes: its reason is kept for the voter to see. */
export async function onVoteRefused(ctx: Ctx, reject: Reject): Promise<boolean> {
  return await receiveVoteRefusal(ctx, reject);
}

/** A fork's community offers changes to one of our policies. */
export async function onOfferReceived(ctx: Ctx, offer: Offer): Promise<void> {
  await receiveOffer(ctx, offer);
}

/** Upstream accepted or rejected one of our offers. */
export async function onOfferDecided(ctx: Ctx, answer: Accept | Reject): Promise<boolean> {
  return await receiveOfferDecision(ctx, answer);
}
