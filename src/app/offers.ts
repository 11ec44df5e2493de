/**
 * Use cases of offers: a fork's stewards offer its changes to the upstream
 * community; the upstream's stewards accept them into the draft, accept them
 * as a proposal the members vote on (which federates like any proposal), or
 * reject them with a reason. The offering side hears the decision.
 */
import { randomUUID } from "node:crypto";
import { findCommunityById, type Community } from "../communities.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { createProposal, proposalIri } from "../participation/proposals.ts";
import { applyChangeSet, changeSetFromContents, type ChangeSet } from "../policies/changeset.ts";
import { diffContents, type PolicyDiff } from "../policies/diff.ts";
import { acceptOffer, describeOffer, forkChanges, getOffer, listOffers, offerChanges, recordDecision, recordOffer, rejectOffer, type Offer } from "../policies/offers.ts";
import { findPolicyByIri, getDraft, getPolicyById, headVersion, versionContent, type Policy } from "../policies/policies.ts";
import type { User } from "../accounts/users.ts";
import { z } from "../zod.ts";
import type { AppContext } from "./context.ts";
import { except, notifyProposalOpened, recipients } from "./notifications.ts";
import { recordEffect } from "./outbox.ts";
import { assertSteward, type Viewer } from "./permissions.ts";

export const OfferRequest = z
  .object({
    message: z.string().max(5000).optional(),
    clauses: z.array(z.string()).min(1).optional().openapi({ description: "Offer only these clauses' changes" }),
  })
  .strict()
  .openapi("OfferRequest");

export const OfferDecisionInput = z
  .object({
    offer: z.string().url(),
    reason: z.string().max(5000).optional(),
    asProposal: z.boolean().optional().openapi({ description: "Accept into a proposal the members vote on, instead of straight into the draft" }),
  })
  .strict()
  .openapi("OfferDecision");

export interface OfferDetails {
  iri: string;
  direction: "incoming" | "outgoing";
  state: "pending" | "accepted" | "rejected";
  reason: string | null;
  target: string;
  origin: string;
  from: string;
  message: string;
  summary: string;
  changes: ChangeSet;
  /** For a pending offer received: the conflicts and the diff it would make to the draft. */
  preview: { conflicts: { id: string; reason: string }[]; diff: PolicyDiff } | null;
  createdAt: string;
  decidedAt: string | null;
}

/** An offer with the diff it would make to the target's draft (incoming) or what it changes (outgoing). */
export async function offerDetails(ctx: AppContext, offer: Offer): Promise<OfferDetails> {
  const target = await findPolicyByIri(ctx.db, offer.targetIri);
  const changes = offerChanges(offer);
  let preview: OfferDetails["preview"] = null;
  if (offer.direction === "incoming" && target?.draft && offer.state === "pending") {
    const draft = getDraft(target);
    const applied = applyChangeSet(draft, changes);
    preview = { conflicts: applied.conflicts.map((c) => ({ id: c.id, reason: c.reason })), diff: diffContents(draft, applied.content) };
  }
  return {
    iri: offer.iri,
    direction: offer.direction as OfferDetails["direction"],
    state: offer.state as OfferDetails["state"],
    reason: offer.reason,
    target: offer.targetIri,
    origin: offer.originIri,
    from: offer.actorIri,
    message: offer.message,
    summary: describeOffer(offer),
    changes,
    preview,
    createdAt: offer.createdAt.toISOString(),
    decidedAt: offer.decidedAt?.toISOString() ?? null,
  };
}

/** Offers received for a policy and offers made from it, newest first. */
export async function policyOffers(ctx: AppContext, policyId: number): Promise<OfferDetails[]> {
  return await Promise.all((await listOffers(ctx.db, await getPolicyById(ctx.db, policyId))).map((offer) => offerDetails(ctx, offer)));
}

async function stewardedCommunityOf(ctx: AppContext, viewer: Viewer, policy: Policy): Promise<{ community: Community; user: User }> {
  const community = policy.communityId !== null ? await findCommunityById(ctx.db, policy.communityId) : undefined;
  if (!community) throw new InvalidInputError(`${policy.iri} is not one of this instance's policies.`);
  return { community, user: await assertSteward(ctx.db, community, viewer) };
}

/** A fork's stewards offer its published changes (or some clauses' changes) to the upstream community. */
export async function makeOffer(ctx: AppContext, viewer: Viewer, forkId: number, input: z.output<typeof OfferRequest>): Promise<OfferDetails> {
  const fork = await getPolicyById(ctx.db, forkId);
  const { community } = await stewardedCommunityOf(ctx, viewer, fork);
  const changes = await forkChanges(ctx.db, fork, input.clauses);
  const upstream = fork.upstreamIri ? await findPolicyByIri(ctx.db, fork.upstreamIri) : undefined;
  if (!upstream) throw new NotFoundError(`The upstream policy ${fork.upstreamIri} is not known here.`);
  const offer = await ctx.db.transaction(async () => {
    const row = await recordOffer(ctx.db, {
      iri: `${fork.iri}/offers/${randomUUID()}`,
      direction: "outgoing",
      targetIri: upstream.iri,
      originIri: fork.iri,
      actorIri: ctx.federation.actorIri(community.handle),
      changes,
      message: input.message?.trim() ?? "",
    });
    await recordEffect(ctx.db, { kind: "offer.sent", offerIri: row.iri, identifier: community.handle }, ctx.clock.now());
    return row;
  });
  return await offerDetails(ctx, offer);
}

/**
 * The target's stewards decide on an offer received: reject it with a
 * reason, accept it into the draft, or accept it as a proposal the members
 * vote on (its changes rebased onto the newest version). The decision, and
 * the proposal, federate from the outbox.
 */
export async function decideOffer(ctx: AppContext, viewer: Viewer, decision: "accept" | "reject", input: z.output<typeof OfferDecisionInput>): Promise<OfferDetails> {
  const offer = await getOffer(ctx.db, input.offer);
  if (offer.direction !== "incoming") throw new InvalidInputError("This is an offer you made; only its recipient can decide on it.");
  const policy = await findPolicyByIri(ctx.db, offer.targetIri);
  if (!policy) throw new NotFoundError(`The policy ${offer.targetIri} no longer exists.`);
  const { community, user } = await stewardedCommunityOf(ctx, viewer, policy);
  if (offer.state !== "pending") throw new ConflictError(`This offer was already ${offer.state}.`);
  const now = ctx.clock.now();
  const decided = await ctx.db.transaction(async () => {
    const row =
      decision === "reject"
        ? await rejectOffer(ctx.db, offer, input.reason?.trim() || "No reason given.")
        : input.asProposal
          ? await acceptAsProposal(ctx, offer, policy, community, user, now)
          : (await acceptOffer(ctx.db, offer, policy)).offer;
    await recordEffect(ctx.db, { kind: "offer.decided", offerIri: row.iri, identifier: community.handle }, now);
    return row;
  });
  return await offerDetails(ctx, decided);
}

/** The offer's changes, rebased onto the newest version, become a proposal; inside decideOffer's transaction. */
async function acceptAsProposal(ctx: AppContext, offer: Offer, policy: Policy, community: Community, user: User, now: Date): Promise<Offer> {
  const head = await headVersion(ctx.db, policy);
  if (!head) throw new InvalidInputError(`"${policy.title}" has no published version to propose changes to.`);
  const base = versionContent(head);
  const applied = applyChangeSet(base, offerChanges(offer));
  if (applied.conflicts.length > 0) {
    throw new ConflictError(`The offer does not apply to version ${head.number}: ${applied.conflicts.map((x) => `${x.id} (${x.reason})`).join("; ")}.`);
  }
  const proposal = await createProposal(ctx.db, {
    policy,
    community,
    author: user,
    title: offer.message ? `Offer: ${offer.message}` : `Offer from ${offer.actorIri}`,
    summary: `Offered by ${offer.actorIri} from ${offer.originIri}.`,
    changes: changeSetFromContents(base, applied.content),
    offerIri: offer.iri,
    now,
  });
  await recordEffect(ctx.db, { kind: "proposal.opened", proposalId: proposal.id }, now);
  await notifyProposalOpened(ctx.db, except(await recipients.ofProposal(ctx.db, ctx.origin, policy, community.id), user.id), { ...proposal, iri: proposalIri(policy, proposal) }, policy, now);
  return await recordDecision(ctx.db, offer, "accepted", "Accepted as a proposal for the members to vote on.");
}
