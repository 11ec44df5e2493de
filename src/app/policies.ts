/**
 * Use cases of policies: publishing and retracting versions, editing the
 * draft clause by clause, creating and importing policies. (Forks and
 * merges: ./forks.ts.)
 *
 * Publishing signs the version document, which is async, so it happens
 * before the transaction: `preparePublication` builds and signs,
 * `commitPublication` stores the version and records its
 * `version.published` effect in one transaction. Other flows that publish
 * (an adopted proposal) call the two directly, inside their own checks and
 * transaction.
 */
import { findCommunityById, type Community } from "../communities.ts";
import { InvalidInputError } from "../errors.ts";
import { adoptedUnpublished, recordResultVersion, type Proposal } from "../participation/proposals.ts";
import { proposalIri } from "../policies/iris.ts";
import { getPolicyById, getVersion, type Policy, type PolicyVersion } from "../policies/policies.ts";
import { commitVersion, prepareVersion, retractVersion, type PreparedVersion } from "../policies/publish.ts";
import type { AppContext } from "./context.ts";
import { recordEffect } from "./outbox.ts";
import { assertSteward, type Viewer } from "./permissions.ts";

/** The local community that owns a policy; a mirrored copy cannot be edited or published here. */
export function ownerCommunity(ctx: AppContext, policy: Policy): Community {
  const community = policy.communityId !== null ? findCommunityById(ctx.db, policy.communityId) : undefined;
  if (!community) throw new InvalidInputError(`${policy.iri} is a mirrored copy of another instance's policy; fork it to edit it.`);
  return community;
}

/** A local policy the viewer stewards (or administers), with its community. */
export function stewardPolicy(ctx: AppContext, viewer: Viewer, policyId: number): { policy: Policy; community: Community } {
  const policy = getPolicyById(ctx.db, policyId);
  const community = ownerCommunity(ctx, policy);
  assertSteward(ctx.db, community, viewer);
  return { policy, community };
}

export interface PublicationRequest {
  /** The changelog; when empty, a summary of the changes since the previous version. */
  message?: string;
  /** The proposals whose adopted changes this version publishes, with their tallies (provenance). */
  decisions?: { proposal: string; tally: Record<string, unknown> }[];
}

/** A version built from the draft and signed as the community, not yet stored. */
export interface PreparedPublication {
  version: PreparedVersion;
  /** Proposals to mark as published by this version when it commits. */
  adopted: Proposal[];
}

/**
 * Builds and signs the next version of a local policy from its draft
 * (async; writes nothing). No permission check: the caller has decided
 * that this publication happens (a steward, or an adopted proposal).
 * `adopted` proposals are marked with the version when it commits.
 */
export async function preparePublication(
  ctx: AppContext,
  policy: Policy,
  request: PublicationRequest = {},
  adopted: Proposal[] = [],
): Promise<PreparedPublication> {
  const community = ownerCommunity(ctx, policy);
  const version = await prepareVersion(ctx.db, {
    policy,
    message: request.message,
    ownerFollowersIri: ctx.federation.followersIri(community.handle),
    sign: ctx.federation.signerFor(community.handle),
    now: ctx.clock.now(),
    decisions: request.decisions,
  });
  return { version, adopted };
}

/**
 * Stores a prepared version, marks its adopted proposals, and records the
 * `version.published` effect, in one transaction (a savepoint when the
 * caller already has one open). Synchronous, so it fits in a caller's
 * transaction next to its own writes and effects.
 */
export function commitPublication(ctx: AppContext, prepared: PreparedPublication): PolicyVersion {
  return ctx.db.transaction(() => {
    const version = commitVersion(ctx.db, prepared.version);
    for (const proposal of prepared.adopted) recordResultVersion(ctx.db, proposal, version.iri);
    recordEffect(ctx.db, { kind: "version.published", policyId: version.policyId, versionId: version.id }, ctx.clock.now());
    return version;
  });
}

/**
 * A steward publishes the draft as a new signed version; followers are sent
 * a Create. Proposals adopted into the draft since the last version are
 * this version's provenance.
 */
export async function publishVersion(ctx: AppContext, viewer: Viewer, policyId: number, input: { message?: string }): Promise<PolicyVersion> {
  const { policy } = stewardPolicy(ctx, viewer, policyId);
  const adopted = adoptedUnpublished(ctx.db, policy);
  const decisions = adopted.map((p) => ({ proposal: proposalIri(policy.iri, p.id), tally: p.tally as Record<string, unknown> }));
  const prepared = await preparePublication(ctx, policy, { message: input.message, decisions }, adopted);
  return commitPublication(ctx, prepared);
}

/** A steward retracts a version; followers are sent a Delete. */
export function retractPolicyVersion(ctx: AppContext, viewer: Viewer, policyId: number, number: number): PolicyVersion {
  const { policy } = stewardPolicy(ctx, viewer, policyId);
  return ctx.db.transaction(() => {
    const version = retractVersion(ctx.db, getVersion(ctx.db, policy, number), ctx.clock.now());
    recordEffect(ctx.db, { kind: "version.retracted", policyId: policy.id, versionId: version.id }, ctx.clock.now());
    return version;
  });
}
