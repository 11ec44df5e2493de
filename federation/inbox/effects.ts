/**
 * How the effects inbox handlers record (src/app/effects.ts, InboxEffect)
 * are carried out, after the change that caused them has committed. Each
 * works from its payload alone: the row it is about may have changed since.
 * A fetch that fails throws, and the outbox dispatcher tries again later.
 */
import { getLogger } from "@logtape/logtape";
import type { InboxEffect } from "../../src/app/effects.ts";
import { findPolicyByIri, isLocal } from "../../src/policies/policies.ts";
import { reshareAnnotation } from "../annotations.ts";
import { backfillFollowed } from "../backfill.ts";
import type { FedCtx } from "../context.ts";
import { recipientByIri } from "../entities/actor.ts";
import { syncDataset } from "../preference-datasets.ts";
import { sendVoteRefusalAs } from "../proposals.ts";

const logger = getLogger(["fedalign", "federation", "inbox"]);

type Of<K extends InboxEffect["kind"]> = Extract<InboxEffect, { kind: K }>;

export async function backfillFromFollowed(ctx: FedCtx, effect: Of<"inbox.follow.backfill">): Promise<void> {
  const held = await backfillFollowed(ctx, effect.followeeIri);
  logger.info("Backfilled {count} version(s) from {followee}.", { count: held, followee: effect.followeeIri });
}

export async function mirrorFollowedDataset(ctx: FedCtx, effect: Of<"inbox.dataset.mirror">): Promise<void> {
  await syncDataset(ctx, effect.datasetIri, effect.ownerIri);
}

export async function refuseVote(ctx: FedCtx, effect: Of<"inbox.vote.refuse">): Promise<void> {
  const voter = await recipientByIri(ctx, effect.voterIri);
  await sendVoteRefusalAs(ctx, effect.identifier, effect.createIri, voter, effect.reason);
}

export async function reshareReceivedAnnotation(ctx: FedCtx, effect: Of<"inbox.annotation.reshare">): Promise<void> {
  const policy = await findPolicyByIri(ctx.data.db, effect.policyIri);
  if (!policy || !isLocal(policy)) return;
  await reshareAnnotation(ctx, policy, { iri: effect.noteIri, authorIri: effect.authorIri });
}
