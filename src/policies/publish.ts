/**
 * Publishing turns a policy's draft into an immutable, numbered, signed
 * version; retracting withdraws one. Signing is async, so publishing is
 * split: `prepareVersion` builds and signs, `commitVersion` stores it
 * (synchronously, inside the caller's transaction, next to its outbox
 * effect — see src/app/policies.ts).
 */
import { eq } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { policies, policyVersions } from "../../db/schema.ts";
import { ConflictError } from "../errors.ts";
import { diffContents, summariseDiff } from "./diff.ts";
import { contentHash } from "./hash.ts";
import { versionIri } from "./iris.ts";
import { reindexPolicy } from "./search.ts";
import type { PolicyContent } from "./content.ts";
import { findVersionByIri, getDraft, headVersion, versionContent, type Policy, type PolicyVersion } from "./policies.ts";
import { buildVersionDocument, type VersionRef } from "./version-document.ts";

/** Signs a version document as the owning community (see federation/policy-signing.ts). */
export type DocumentSigner = (document: Record<string, unknown>) => Promise<Record<string, unknown>>;

export interface PublishInput {
  policy: Policy;
  /** The changelog; when empty, a summary of the changes since the previous version. */
  message?: string;
  ownerFollowersIri: string;
  sign: DocumentSigner;
  now?: Date;
  /** The proposals whose adopted changes this version publishes, with their tallies (provenance). */
  decisions?: { proposal: string; tally: Record<string, unknown> }[];
}

/**
 * A version signed and ready to be stored: everything `commitVersion` needs,
 * computed (and signed, which is async) before the transaction opens.
 */
export interface PreparedVersion {
  policyId: number;
  iri: string;
  number: number;
  contentHash: string;
  changelog: string;
  document: Record<string, unknown>;
  publishedAt: Date;
  content: PolicyContent;
  /** The upstream version a merge in the draft took in; it becomes the merge base once published. */
  mergedIri: string | null;
}

/** Builds and signs the next version of a policy from its draft. Writes nothing. */
export async function prepareVersion(db: Db, input: PublishInput): Promise<PreparedVersion> {
  const { policy } = input;
  const content = getDraft(policy);
  const hash = contentHash(content);
  const live = await headVersion(db, policy);
  if (live && live.contentHash === hash) {
    throw new ConflictError(`Nothing to publish: the draft of "${policy.title}" is identical to version ${live.number}.`);
  }
  // Numbers are never reused, even after a retraction.
  const number = ((await headVersion(db, policy, true))?.number ?? 0) + 1;
  const changelog =
    input.message?.trim() || (live ? summariseDiff(diffContents(versionContent(live), content)) : "First version.");
  const published = input.now ?? new Date();
  const iri = versionIri(policy.iri, number);
  const lineage = await forkLineage(db, policy);
  const document = await input.sign(
    buildVersionDocument({
      iri,
      policyIri: policy.iri,
      ownerIri: policy.ownerIri,
      ownerFollowersIri: input.ownerFollowersIri,
      number,
      previousIri: live?.iri ?? null,
      published,
      changelog,
      content,
      contentHash: hash,
      ...lineage,
      decisions: input.decisions ?? null,
    }),
  );
  return {
    policyId: policy.id,
    iri,
    number,
    contentHash: hash,
    changelog,
    document,
    publishedAt: published,
    content,
    mergedIri: policy.pendingMergeIri,
  };
}

/**
 * Stores a prepared version (synchronous: call it inside the caller's
 * transaction). Refuses when another version took the number meanwhile.
 */
export async function commitVersion(db: Db, prepared: PreparedVersion): Promise<PolicyVersion> {
  return await db.transaction(async (tx) => {
    const clash = await first(tx.select({ id: policyVersions.id }).from(policyVersions).where(eq(policyVersions.iri, prepared.iri)).limit(1));
    if (clash) throw new ConflictError(`Version ${prepared.number} of "${prepared.content.title}" was published at the same moment; try again.`);
    const version = (await first(tx
      .insert(policyVersions)
      .values({
        policyId: prepared.policyId,
        iri: prepared.iri,
        number: prepared.number,
        contentHash: prepared.contentHash,
        changelog: prepared.changelog,
        document: prepared.document,
        publishedAt: prepared.publishedAt,
        receivedAt: prepared.publishedAt,
      })
      .returning()))!;
    // A merge in the draft is done once published: the merged upstream version becomes the new base.
    const { content } = prepared;
    await tx.update(policies)
      .set({
        title: content.title,
        summary: content.summary,
        licence: content.licence,
        ...(prepared.mergedIri ? { mergeBaseIri: prepared.mergedIri, pendingMergeIri: null } : {}),
      })
      .where(eq(policies.id, prepared.policyId));
    await reindexPolicy(tx, prepared.policyId);
    return version;
  });
}

/** Prepares and commits in one go (no outbox effect: use src/app/policies.ts to publish and announce). */
export async function publishDraft(db: Db, input: PublishInput): Promise<PolicyVersion> {
  return await commitVersion(db, await prepareVersion(db, input));
}

/** A fork names its origin on every version, and the upstream version a merge took in. */
async function forkLineage(db: Db, policy: Policy): Promise<{ forkedFrom: VersionRef | null; mergedFrom: VersionRef | null }> {
  const forkedFrom =
    policy.forkedFromIri && policy.forkedFromHash ? { id: policy.forkedFromIri, contentHash: policy.forkedFromHash } : null;
  const merged = policy.pendingMergeIri ? await findVersionByIri(db, policy.pendingMergeIri) : undefined;
  return { forkedFrom, mergedFrom: merged ? { id: merged.iri, contentHash: merged.contentHash } : null };
}

export async function retractVersion(db: Db, version: PolicyVersion, now: Date = new Date()): Promise<PolicyVersion> {
  if (version.retractedAt) throw new ConflictError(`Version ${version.number} was already retracted.`);
  return await db.transaction(async (tx) => {
    const [retracted] = await tx.update(policyVersions).set({ retractedAt: now }).where(eq(policyVersions.id, version.id)).returning();
    await reindexPolicy(tx, version.policyId);
    return retracted!;
  });
}
