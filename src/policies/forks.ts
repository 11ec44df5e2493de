/**
 * Forks: a community's own copy of another policy's version, which keeps
 * track of its upstream and takes in upstream changes with a clause-level
 * three-way merge (base = the last upstream version merged, or the fork
 * point; ours = the fork's draft; theirs = upstream's newest version).
 */
import { and, asc, desc, eq, isNull } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { policies, policyForks, policyVersions } from "../../db/schema.ts";
import type { Community } from "../communities.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { diffContents, type PolicyDiff } from "./diff.ts";
import { mergeContents, MergeResolutionError, resolveMerge, type MergeResult } from "./merge.ts";
import type { PolicyContent } from "./content.ts";
import { createPolicy, findPolicyByIri, findVersionByIri, getDraft, saveDraft, versionContent, type Policy, type PolicyVersion } from "./policies.ts";

export type PolicyFork = typeof policyForks.$inferSelect;

export function isFork(policy: Policy): boolean {
  return policy.upstreamIri !== null;
}

/** Creates the fork as a new local policy whose draft is the upstream version's content. */
export async function forkVersion(db: Db, input: { origin: string; community: Community; upstream: PolicyVersion; slug: string }): Promise<Policy> {
  const upstreamPolicy = await first(db.select().from(policies).where(eq(policies.id, input.upstream.policyId)).limit(1));
  if (!upstreamPolicy) throw new NotFoundError(`The policy of ${input.upstream.iri} is unknown here.`);
  if (input.upstream.retractedAt) throw new InvalidInputError(`${input.upstream.iri} was retracted; fork another version.`);
  if (upstreamPolicy.communityId === input.community.id) {
    throw new InvalidInputError(`"${upstreamPolicy.title}" already belongs to ${input.community.handle}; publish a new version instead of forking it.`);
  }
  return await db.transaction(async () => {
    const fork = await createPolicy(db, { origin: input.origin, community: input.community, slug: input.slug, content: versionContent(input.upstream) });
    return (await first(db
      .update(policies)
      .set({
        forkedFromIri: input.upstream.iri,
        forkedFromHash: input.upstream.contentHash,
        upstreamIri: upstreamPolicy.iri,
        mergeBaseIri: input.upstream.iri,
      })
      .where(eq(policies.id, fork.id))
      .returning()))!;
  });
}

/** The newest live version we hold of the fork's upstream. */
async function upstreamHead(db: Db, fork: Policy): Promise<PolicyVersion | undefined> {
  const upstream = fork.upstreamIri ? await findPolicyByIri(db, fork.upstreamIri) : undefined;
  if (!upstream) return undefined;
  return await first(db
    .select()
    .from(policyVersions)
    .where(and(eq(policyVersions.policyId, upstream.id), isNull(policyVersions.retractedAt)))
    .orderBy(desc(policyVersions.number))
    .limit(1));
}

export interface UpstreamStatus {
  upstream: string;
  base: { iri: string; number: number };
  head: { iri: string; number: number } | null;
  upToDate: boolean;
  /** A merge already in the draft, waiting to be published. */
  pendingMerge: string | null;
  /** What upstream changed since the base. */
  changes: PolicyDiff | null;
  /** What merging now would do to the draft. */
  merge: MergeResult | null;
}

async function baseVersion(db: Db, fork: Policy): Promise<PolicyVersion> {
  const base = fork.mergeBaseIri ? await findVersionByIri(db, fork.mergeBaseIri) : undefined;
  if (!base) throw new NotFoundError(`The fork point of "${fork.title}" (${fork.mergeBaseIri}) is not held here.`);
  return base;
}

export async function upstreamStatus(db: Db, fork: Policy): Promise<UpstreamStatus> {
  if (!isFork(fork)) throw new InvalidInputError(`"${fork.title}" is not a fork, so it has no upstream.`);
  const base = await baseVersion(db, fork);
  const head = await upstreamHead(db, fork);
  const upToDate = !head || head.number <= base.number;
  const theirs = head && !upToDate ? versionContent(head) : null;
  return {
    upstream: fork.upstreamIri!,
    base: { iri: base.iri, number: base.number },
    head: head ? { iri: head.iri, number: head.number } : null,
    upToDate,
    pendingMerge: fork.pendingMergeIri,
    changes: theirs ? diffContents(versionContent(base), theirs) : null,
    merge: theirs ? mergeContents(versionContent(base), getDraft(fork), theirs) : null,
  };
}

/**
 * Merges upstream's newest version into the draft. Conflicts must all be
 * resolved (`resolutions`), or nothing is written and the conflicts are
 * reported. The merged draft publishes as a version naming both parents.
 */
export async function mergeUpstream(db: Db, fork: Policy, resolutions: Parameters<typeof resolveMerge>[1] | undefined): Promise<{ policy: Policy; result: MergeResult }> {
  const status = await upstreamStatus(db, fork);
  if (status.upToDate || !status.merge || !status.head) {
    throw new ConflictError(`"${fork.title}" is up to date with its upstream (version ${status.base.number}); nothing to merge.`);
  }
  const result = status.merge;
  if (result.conflicts.length > 0 && !resolutions) {
    throw new MergeConflictsError(result);
  }
  let merged: PolicyContent;
  try {
    merged = result.conflicts.length > 0 ? resolveMerge(result, resolutions!) : result.merged;
  } catch (error) {
    // A resolution that names no conflict, misses one, or leaves the content invalid is the caller's to fix.
    if (error instanceof MergeResolutionError) throw new InvalidInputError(error.message);
    throw error;
  }
  const saved = await saveDraft(db, fork, merged);
  const policy = (await first(db.update(policies).set({ pendingMergeIri: status.head.iri }).where(eq(policies.id, saved.id)).returning()))!;
  return { policy, result };
}

/** Thrown when a merge needs decisions; carries the conflicts for the API to show. */
export class MergeConflictsError extends ConflictError {
  readonly result: MergeResult;
  constructor(result: MergeResult) {
    super(
      `${result.conflicts.length} conflicting change${result.conflicts.length === 1 ? "" : "s"} need a decision: ` +
        `${result.conflicts.map((c) => c.key).join(", ")}. Resolve each as ours, theirs, an edited clause or null (remove).`,
    );
    this.result = result;
  }
}

/** Upstream side: a fork another community told us about. Idempotent on the fork's IRI. */
export async function recordFork(db: Db, input: { policy: Policy; forkIri: string; forkOwnerIri: string; forkedFromIri: string }): Promise<PolicyFork> {
  const existing = await first(db.select().from(policyForks).where(eq(policyForks.forkIri, input.forkIri)).limit(1));
  if (existing) return existing;
  return (await first(db
    .insert(policyForks)
    .values({ policyId: input.policy.id, forkIri: input.forkIri, forkOwnerIri: input.forkOwnerIri, forkedFromIri: input.forkedFromIri, receivedAt: new Date() })
    .returning()))!;
}

export async function listForks(db: Db, policy: Policy): Promise<PolicyFork[]> {
  return await db.select().from(policyForks).where(eq(policyForks.policyId, policy.id)).orderBy(asc(policyForks.id));
}
