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
import { findCommunityById, getCommunity, listCommunities, type Community } from "../communities.ts";
import { ForbiddenError, InvalidInputError, NotFoundError } from "../errors.ts";
import { adoptedUnpublished, recordResultVersion, type Proposal } from "../participation/proposals.ts";
import { policyContentSchema, type Clause, type PolicyContent } from "../policies/content.ts";
import { diffContents, type PolicyDiff } from "../policies/diff.ts";
import { importPolicy } from "../policies/import/json.ts";
import type { ImportReport } from "../policies/import/report.ts";
import { proposalIri } from "../policies/iris.ts";
import {
  createPolicy,
  findPolicyByIri,
  findVersionByIri,
  freeSlug,
  getDraft,
  getPolicyById,
  getVersion,
  listCommunityPolicies,
  listMirroredPolicies,
  saveDraft,
  slugFromTitle,
  versionContent,
  type Policy,
  type PolicyVersion,
} from "../policies/policies.ts";
import { commitVersion, prepareVersion, retractVersion, type PreparedVersion } from "../policies/publish.ts";
import type { AppContext } from "./context.ts";
import { notifyVersionPublished } from "./notifications.ts";
import { recordEffect } from "./outbox.ts";
import { assertMember, assertSteward, isMember, type Viewer } from "./permissions.ts";
import type { ImportInput, NewPolicyInput } from "./policy-inputs.ts";

/** The local community that owns a policy; a mirrored copy cannot be edited or published here. */
export async function ownerCommunity(ctx: AppContext, policy: Policy): Promise<Community> {
  const community = policy.communityId !== null ? await findCommunityById(ctx.db, policy.communityId) : undefined;
  if (!community) throw new InvalidInputError(`${policy.iri} is a mirrored copy of another instance's policy; fork it to edit it.`);
  return community;
}

/** A local policy the viewer stewards (or administers), with its community. */
export async function stewardPolicy(ctx: AppContext, viewer: Viewer, policyId: number): Promise<{ policy: Policy; community: Community }> {
  const policy = await getPolicyById(ctx.db, policyId);
  const community = await ownerCommunity(ctx, policy);
  await assertSteward(ctx.db, community, viewer);
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
  const community = await ownerCommunity(ctx, policy);
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
export async function commitPublication(ctx: AppContext, prepared: PreparedPublication): Promise<PolicyVersion> {
  return await ctx.db.transaction(async () => {
    const version = await commitVersion(ctx.db, prepared.version);
    for (const proposal of prepared.adopted) await recordResultVersion(ctx.db, proposal, version.iri);
    await recordEffect(ctx.db, { kind: "version.published", policyId: version.policyId, versionId: version.id }, ctx.clock.now());
    await notifyVersionPublished(ctx.db, ctx.origin, await getPolicyById(ctx.db, version.policyId), version, ctx.clock.now());
    return version;
  });
}

/**
 * A steward publishes the draft as a new signed version; followers are sent
 * a Create. Proposals adopted into the draft since the last version are
 * this version's provenance.
 */
export async function publishVersion(ctx: AppContext, viewer: Viewer, policyId: number, input: { message?: string }): Promise<PolicyVersion> {
  const { policy } = await stewardPolicy(ctx, viewer, policyId);
  const adopted = await adoptedUnpublished(ctx.db, policy);
  const decisions = adopted.map((p) => ({ proposal: proposalIri(policy.iri, p.id), tally: p.tally as Record<string, unknown> }));
  const prepared = await preparePublication(ctx, policy, { message: input.message, decisions }, adopted);
  return await commitPublication(ctx, prepared);
}

/** A steward retracts a version; followers are sent a Delete. */
export async function retractPolicyVersion(ctx: AppContext, viewer: Viewer, policyId: number, number: number): Promise<PolicyVersion> {
  const { policy } = await stewardPolicy(ctx, viewer, policyId);
  return await ctx.db.transaction(async () => {
    const version = await retractVersion(ctx.db, await getVersion(ctx.db, policy, number), ctx.clock.now());
    await recordEffect(ctx.db, { kind: "version.retracted", policyId: policy.id, versionId: version.id }, ctx.clock.now());
    return version;
  });
}

// ---------------------------------------------------------------------------
// Creating and importing

/** A steward creates a policy in their community, with its first draft. */
export async function createCommunityPolicy(ctx: AppContext, viewer: Viewer, input: NewPolicyInput): Promise<Policy> {
  const community = await getCommunity(ctx.db, input.community);
  await assertSteward(ctx.db, community, viewer);
  const slug = input.slug ?? await freeSlug(ctx.db, community, slugFromTitle(input.content.title));
  return await createPolicy(ctx.db, { origin: ctx.origin, community, slug, content: input.content });
}

/** A steward imports a policy file as a new draft; the report says what was kept and what could not be mapped. */
export async function importCommunityPolicy(ctx: AppContext, viewer: Viewer, input: ImportInput): Promise<{ policy: Policy; report: ImportReport }> {
  const community = await getCommunity(ctx.db, input.community);
  await assertSteward(ctx.db, community, viewer);
  const { content, report } = importPolicy(input.source, input.format, { title: input.title, licence: input.licence });
  const slug = input.slug ?? await freeSlug(ctx.db, community, slugFromTitle(content.title));
  return { policy: await createPolicy(ctx.db, { origin: ctx.origin, community, slug, content }), report };
}

// ---------------------------------------------------------------------------
// The draft

/** The working draft: members and stewards of the owning community read it. */
export async function readDraft(ctx: AppContext, viewer: Viewer, policyId: number): Promise<PolicyContent> {
  const policy = await getPolicyById(ctx.db, policyId);
  const community = await ownerCommunity(ctx, policy);
  await assertMember(ctx.db, community, viewer);
  return getDraft(policy);
}

/** Whether the viewer may read a policy's draft (a member of its local community). */
export async function canReadDraft(ctx: AppContext, viewer: Viewer, policy: Policy): Promise<boolean> {
  const community = policy.communityId !== null ? await findCommunityById(ctx.db, policy.communityId) : undefined;
  return await isMember(ctx.db, community, viewer);
}

/** A steward replaces the whole draft. */
export async function replaceDraft(ctx: AppContext, viewer: Viewer, policyId: number, content: PolicyContent): Promise<PolicyContent> {
  const { policy } = await stewardPolicy(ctx, viewer, policyId);
  return getDraft(await saveDraft(ctx.db, policy, content));
}

/** A steward changes the draft's title, summary and licence. */
export async function updateDraftMetadata(
  ctx: AppContext,
  viewer: Viewer,
  policyId: number,
  metadata: { title: string; summary: string; licence: string },
): Promise<PolicyContent> {
  const { policy } = await stewardPolicy(ctx, viewer, policyId);
  return await saveChecked(ctx, policy, { ...getDraft(policy), ...metadata });
}

/** Re-validates the whole draft after an edit, so cross-clause rules (unique ids, sections) hold. */
async function saveChecked(ctx: AppContext, policy: Policy, content: unknown): Promise<PolicyContent> {
  const parsed = policyContentSchema.safeParse(content);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new InvalidInputError(`The draft would be invalid: ${detail}`);
  }
  return getDraft(await saveDraft(ctx.db, policy, parsed.data));
}

/**
 * A steward adds or replaces one clause of the draft; a new clause goes at
 * the end unless `position` is given, a replaced one stays where it was.
 */
export async function putClause(ctx: AppContext, viewer: Viewer, policyId: number, clauseId: string, clause: Clause, position?: number): Promise<PolicyContent> {
  const { policy } = await stewardPolicy(ctx, viewer, policyId);
  if (clause.id !== clauseId) throw new InvalidInputError(`The clause's id "${clause.id}" does not match the URL's "${clauseId}".`);
  const draft = getDraft(policy);
  const index = draft.clauses.findIndex((existing) => existing.id === clauseId);
  if (index >= 0) draft.clauses.splice(index, 1);
  const at = position ?? (index >= 0 ? index : draft.clauses.length);
  draft.clauses.splice(Math.min(at, draft.clauses.length), 0, clause);
  return await saveChecked(ctx, policy, draft);
}

/** A steward removes one clause from the draft. */
export async function removeClause(ctx: AppContext, viewer: Viewer, policyId: number, clauseId: string): Promise<PolicyContent> {
  const { policy } = await stewardPolicy(ctx, viewer, policyId);
  const draft = getDraft(policy);
  if (!draft.clauses.some((clause) => clause.id === clauseId)) throw new NotFoundError(`The draft has no clause "${clauseId}".`);
  draft.clauses = draft.clauses.filter((clause) => clause.id !== clauseId);
  return await saveChecked(ctx, policy, draft);
}

// ---------------------------------------------------------------------------
// Reads

/** Policies of a community, the mirrored copies of other instances' policies, or every local policy. */
export async function listPolicies(ctx: AppContext, query: { community?: string; mirrored?: boolean }): Promise<Policy[]> {
  if (query.community) return await listCommunityPolicies(ctx.db, await getCommunity(ctx.db, query.community));
  if (query.mirrored) return await listMirroredPolicies(ctx.db);
  return (await Promise.all((await listCommunities(ctx.db)).map((community) => listCommunityPolicies(ctx.db, community)))).flat();
}

/** A policy by numeric id, community/slug, policy IRI or version IRI. */
export async function resolvePolicyRef(ctx: AppContext, ref: string): Promise<{ policy: Policy; version?: PolicyVersion }> {
  const { db } = ctx;
  if (/^\d+$/.test(ref)) return { policy: await getPolicyById(db, Number(ref)) };
  const local = /^([a-z0-9_]+)\/([a-z0-9-]+)$/.exec(ref);
  if (local) {
    const community = await getCommunity(db, local[1]!);
    const policy = (await listCommunityPolicies(db, community)).find((p) => p.slug === local[2]);
    if (!policy) throw new NotFoundError(`Community "${community.handle}" has no policy "${local[2]}".`);
    return { policy };
  }
  const version = await findVersionByIri(db, ref);
  if (version) return { policy: await getPolicyById(db, version.policyId), version };
  const policy = await findPolicyByIri(db, ref);
  if (policy) return { policy };
  throw new NotFoundError(`No policy or version "${ref}" here; use an id, community/slug, or an IRI this instance holds (follow the policy to mirror it).`);
}

/** Differences between two versions, or a version and the draft (members only for the draft). */
export async function diffPolicy(ctx: AppContext, viewer: Viewer, policyId: number, from: string, to: string): Promise<PolicyDiff> {
  const policy = await getPolicyById(ctx.db, policyId);
  const contentOf = async (which: string): Promise<PolicyContent> => {
    if (which !== "draft") return versionContent(await getVersion(ctx.db, policy, Number(which)));
    const community = await ownerCommunity(ctx, policy);
    if (!await isMember(ctx.db, community, viewer)) throw new ForbiddenError(`Only members of "${community.handle}" can diff against its draft.`);
    return getDraft(policy);
  };
  return diffContents(await contentOf(from), await contentOf(to));
}
