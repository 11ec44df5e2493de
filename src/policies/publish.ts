/**
 * Publishing turns a policy's draft into an immutable, numbered, signed
 * version; retracting withdraws one. The caller sends the activities after
 * these return (federation is a side effect after the commit).
 */
import { eq } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { policies, policyVersions } from "../../db/schema.ts";
import { ConflictError } from "../errors.ts";
import { diffContents, summariseDiff } from "./diff.ts";
import { contentHash } from "./hash.ts";
import { versionIri } from "./iris.ts";
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

export async function publishDraft(db: Db, input: PublishInput): Promise<PolicyVersion> {
  const { policy } = input;
  const content = getDraft(policy);
  const hash = contentHash(content);
  const live = headVersion(db, policy);
  if (live && live.contentHash === hash) {
    throw new ConflictError(`Nothing to publish: the draft of "${policy.title}" is identical to version ${live.number}.`);
  }
  // Numbers are never reused, even after a retraction.
  const number = (headVersion(db, policy, true)?.number ?? 0) + 1;
  const changelog =
    input.message?.trim() || (live ? summariseDiff(diffContents(versionContent(live), content)) : "First version.");
  const published = input.now ?? new Date();
  const iri = versionIri(policy.iri, number);
  const lineage = forkLineage(db, policy);
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
  return db.transaction((tx) => {
    const clash = tx.select({ id: policyVersions.id }).from(policyVersions).where(eq(policyVersions.iri, iri)).get();
    if (clash) throw new ConflictError(`Version ${number} of "${policy.title}" was published at the same moment; try again.`);
    const version = tx
      .insert(policyVersions)
      .values({ policyId: policy.id, iri, number, contentHash: hash, changelog, document, publishedAt: published, receivedAt: published })
      .returning()
      .get();
    // A merge in the draft is done once published: the merged upstream version becomes the new base.
    tx.update(policies)
      .set({
        title: content.title,
        summary: content.summary,
        licence: content.licence,
        ...(policy.pendingMergeIri ? { mergeBaseIri: policy.pendingMergeIri, pendingMergeIri: null } : {}),
      })
      .where(eq(policies.id, policy.id))
      .run();
    return version;
  });
}

/** A fork names its origin on every version, and the upstream version a merge took in. */
function forkLineage(db: Db, policy: Policy): { forkedFrom: VersionRef | null; mergedFrom: VersionRef | null } {
  const forkedFrom =
    policy.forkedFromIri && policy.forkedFromHash ? { id: policy.forkedFromIri, contentHash: policy.forkedFromHash } : null;
  const merged = policy.pendingMergeIri ? findVersionByIri(db, policy.pendingMergeIri) : undefined;
  return { forkedFrom, mergedFrom: merged ? { id: merged.iri, contentHash: merged.contentHash } : null };
}

export function retractVersion(db: Db, version: PolicyVersion): PolicyVersion {
  if (version.retractedAt) throw new ConflictError(`Version ${version.number} was already retracted.`);
  return db
    .update(policyVersions)
    .set({ retractedAt: new Date() })
    .where(eq(policyVersions.id, version.id))
    .returning()
    .get();
}
