/**
 * Use cases of forks: a steward forks a version (of this instance or
 * another) into their community, and merges upstream changes into a
 * fork's draft. Forking fetches and verifies the upstream version before
 * the transaction; the fork and its announcement (follow the upstream
 * policy, tell its community: the `fork.announced` effect) commit together,
 * so a fork whose upstream cannot be reached yet still follows it once it
 * can (the outbox retries).
 */
import { getCommunity } from "../communities.ts";
import { InvalidInputError, RemoteError } from "../errors.ts";
import { forkVersion, listForks, mergeUpstream, upstreamStatus, type PolicyFork, type UpstreamStatus } from "../policies/forks.ts";
import type { Resolutions, MergeResult } from "../policies/merge.ts";
import { freeSlug, getPolicyById, slugFromTitle, type Policy, type PolicyVersion } from "../policies/policies.ts";
import type { AppContext } from "./context.ts";
import { recordEffect } from "./outbox.ts";
import { assertSteward, type Viewer } from "./permissions.ts";
import { stewardPolicy } from "./policies.ts";

export interface ForkInput {
  /** IRI of the version to fork (on any instance). */
  version: string;
  /** Handle of a community the viewer stewards. */
  into: string;
  slug?: string;
}

async function upstreamVersion(ctx: AppContext, iri: string): Promise<PolicyVersion> {
  try {
    return await ctx.federation.fetchVerifiedVersion(iri);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InvalidInputError(`Cannot fork ${iri}: ${error.message}.`);
    if (error instanceof RemoteError) throw new RemoteError(`Cannot fetch ${iri}: ${error.message}.`);
    throw error;
  }
}

/** Forks a version into a community the viewer stewards; the upstream hears of it. */
export async function forkPolicyVersion(ctx: AppContext, viewer: Viewer, input: ForkInput): Promise<Policy> {
  const community = await getCommunity(ctx.db, input.into);
  await assertSteward(ctx.db, community, viewer);
  const upstream = await upstreamVersion(ctx, input.version);
  const title = (upstream.document.normativeContent as { title?: string }).title ?? "fork";
  return await ctx.db.transaction(async () => {
    const slug = input.slug ?? await freeSlug(ctx.db, community, slugFromTitle(title));
    const fork = await forkVersion(ctx.db, { origin: ctx.origin, community, upstream, slug });
    await recordEffect(ctx.db, { kind: "fork.announced", forkId: fork.id, community: community.handle }, ctx.clock.now());
    return fork;
  });
}

/**
 * Merges upstream's newest version into a fork's draft (stewards).
 * Throws MergeConflictsError (409, with the conflicts) when conflicts need
 * resolutions; nothing is written then. Publishing makes the merge a version.
 */
export async function mergeUpstreamIntoFork(
  ctx: AppContext,
  viewer: Viewer,
  forkId: number,
  resolutions: Resolutions | undefined,
): Promise<{ policy: Policy; result: MergeResult }> {
  const { policy } = await stewardPolicy(ctx, viewer, forkId);
  return await mergeUpstream(ctx.db, policy, resolutions);
}

/** A fork's upstream: its changes since the last merge and what merging would do. */
export async function forkUpstream(ctx: AppContext, forkId: number): Promise<UpstreamStatus> {
  return await upstreamStatus(ctx.db, await getPolicyById(ctx.db, forkId));
}

/** Forks of a policy that other communities announced. */
export async function announcedForks(ctx: AppContext, policyId: number): Promise<PolicyFork[]> {
  return await listForks(ctx.db, await getPolicyById(ctx.db, policyId));
}
