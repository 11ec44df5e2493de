/**
 * Policies of local communities: creation (empty or imported), the working
 * draft, and lookups shared with mirrored policies. Publishing lives in
 * ./publish.ts. These functions know nothing of HTTP or ActivityPub; IRIs
 * come from ./iris.ts.
 */
import { and, asc, count, desc, eq, getTableColumns, isNotNull, isNull, sql } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { policies, policyVersions } from "../../db/schema.ts";
import type { Community } from "../communities.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { z } from "../zod.ts";
import { policyContentSchema, type PolicyContent } from "./content.ts";
import { communityIri, policyIri } from "./iris.ts";

export type Policy = typeof policies.$inferSelect;
export type PolicyVersion = typeof policyVersions.$inferSelect;

export const slugSchema = z
  .string()
  .min(1, "must not be empty")
  .max(60, "must be at most 60 characters")
  .regex(/^[a-z0-9][a-z0-9-]*$/, "may contain only lower-case letters, digits and hyphens, and must start with a letter or digit");

/** A readable slug from a title: "OpenAI Model Spec" -> "openai-model-spec". */
export function slugFromTitle(title: string): string {
  const slug = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return slug || "policy";
}

export function isLocal(policy: Policy): boolean {
  return policy.communityId !== null;
}

export async function createPolicy(
  db: Db,
  input: { origin: string; community: Community; slug: string; content: PolicyContent },
): Promise<Policy> {
  const slug = slugSchema.safeParse(input.slug);
  if (!slug.success) throw new InvalidInputError(`Policy slug "${input.slug}" ${slug.error.issues[0]?.message}.`);
  const taken = await first(db
    .select({ id: policies.id })
    .from(policies)
    .where(and(eq(policies.communityId, input.community.id), eq(policies.slug, slug.data))).limit(1));
  if (taken) {
    throw new ConflictError(`Community "${input.community.handle}" already has a policy "${slug.data}"; choose another slug.`);
  }
  return (await first(db
    .insert(policies)
    .values({
      iri: policyIri(input.origin, input.community.handle, slug.data),
      ownerIri: communityIri(input.origin, input.community.handle),
      communityId: input.community.id,
      slug: slug.data,
      title: input.content.title,
      summary: input.content.summary,
      licence: input.content.licence,
      draft: input.content,
      draftUpdatedAt: new Date(),
    })
    .returning()))!;
}

/** A free slug for a community, derived from the title when none is given. */
export async function freeSlug(db: Db, community: Community, wanted: string): Promise<string> {
  let candidate = wanted;
  for (let n = 2; ; n++) {
    const taken = await first(db
      .select({ id: policies.id })
      .from(policies)
      .where(and(eq(policies.communityId, community.id), eq(policies.slug, candidate))).limit(1));
    if (!taken) return candidate;
    candidate = `${wanted.slice(0, 55)}-${n}`;
  }
}

export async function listCommunityPolicies(db: Db, community: Community): Promise<Policy[]> {
  return await db.select().from(policies).where(eq(policies.communityId, community.id)).orderBy(asc(policies.slug));
}

export async function listMirroredPolicies(db: Db): Promise<Policy[]> {
  return await db.select().from(policies).where(isNull(policies.communityId)).orderBy(asc(policies.iri));
}

export async function findPolicyById(db: Db, id: number): Promise<Policy | undefined> {
  return await first(db.select().from(policies).where(eq(policies.id, id)).limit(1));
}

export async function findPolicyByIri(db: Db, iri: string): Promise<Policy | undefined> {
  return await first(db.select().from(policies).where(eq(policies.iri, iri)).limit(1));
}

export async function findLocalPolicy(db: Db, community: Community, slug: string): Promise<Policy | undefined> {
  return await first(db.select().from(policies).where(and(eq(policies.communityId, community.id), eq(policies.slug, slug))).limit(1));
}

export async function getPolicyById(db: Db, id: number): Promise<Policy> {
  const policy = await findPolicyById(db, id);
  if (!policy) throw new NotFoundError(`No policy with id ${id} on this instance.`);
  return policy;
}

export function getDraft(policy: Policy): PolicyContent {
  if (!isLocal(policy) || !policy.draft) {
    throw new InvalidInputError(`${policy.iri} is a mirrored copy of another instance's policy; fork it to edit it.`);
  }
  // Drafts were validated when stored; parsing fills defaults added since.
  return policyContentSchema.parse(policy.draft);
}

export async function saveDraft(db: Db, policy: Policy, content: PolicyContent): Promise<Policy> {
  getDraft(policy);
  return (await first(db
    .update(policies)
    .set({ draft: content, draftUpdatedAt: new Date() })
    .where(eq(policies.id, policy.id))
    .returning()))!;
}

export async function listVersions(db: Db, policy: Policy): Promise<PolicyVersion[]> {
  return await db.select().from(policyVersions).where(eq(policyVersions.policyId, policy.id)).orderBy(asc(policyVersions.number));
}

/** A version without its document (which can be half a megabyte to parse), and the upstream version it merged, if any. */
export type VersionSummary = Omit<PolicyVersion, "document"> & { mergedFrom: string | null };

/** The versions of a policy, oldest first, without their documents: for pages that list them. */
export async function listVersionSummaries(db: Db, policy: Policy): Promise<VersionSummary[]> {
  const { document: _document, ...columns } = getTableColumns(policyVersions);
  return await db
    .select({
      ...columns,
      // A VersionRef ({id, contentHash}) or, in older documents, a bare IRI.
      mergedFrom: sql<string | null>`coalesce(json_extract(${policyVersions.document}, '$.mergedFrom.id'), json_extract(${policyVersions.document}, '$.mergedFrom'))`,
    })
    .from(policyVersions)
    .where(eq(policyVersions.policyId, policy.id))
    .orderBy(asc(policyVersions.number));
}

export async function headVersion(db: Db, policy: Policy, includeRetracted = false): Promise<PolicyVersion | undefined> {
  const condition = includeRetracted
    ? eq(policyVersions.policyId, policy.id)
    : and(eq(policyVersions.policyId, policy.id), isNull(policyVersions.retractedAt));
  return await first(db.select().from(policyVersions).where(condition).orderBy(desc(policyVersions.number)).limit(1));
}

/** Whose published versions: one policy's, or those of every policy a local community owns. */
export type PublishedScope = { policyId: number } | { ownerIri: string };

function publishedCondition(scope: PublishedScope) {
  const owner = "policyId" in scope ? eq(policies.id, scope.policyId) : eq(policies.ownerIri, scope.ownerIri);
  // Only our own policies: a mirror's versions are another community's to list.
  return and(owner, isNotNull(policies.communityId), isNull(policyVersions.retractedAt));
}

/** Published (not retracted) versions, newest first, one page at a time: what an outbox lists. */
export async function listPublished(db: Db, scope: PublishedScope, page: { offset: number; limit: number }): Promise<{ policy: Policy; version: PolicyVersion }[]> {
  return await db
    .select({ policy: policies, version: policyVersions })
    .from(policyVersions)
    .innerJoin(policies, eq(policies.id, policyVersions.policyId))
    .where(publishedCondition(scope))
    .orderBy(desc(policyVersions.publishedAt), desc(policyVersions.id))
    .limit(page.limit)
    .offset(page.offset);
}

export async function countPublished(db: Db, scope: PublishedScope): Promise<number> {
  return (
    (await first(db
      .select({ n: count() })
      .from(policyVersions)
      .innerJoin(policies, eq(policies.id, policyVersions.policyId))
      .where(publishedCondition(scope)).limit(1)))?.n ?? 0
  );
}

export async function findVersion(db: Db, policy: Policy, number: number): Promise<PolicyVersion | undefined> {
  return await first(db
    .select()
    .from(policyVersions)
    .where(and(eq(policyVersions.policyId, policy.id), eq(policyVersions.number, number))).limit(1));
}

export async function getVersion(db: Db, policy: Policy, number: number): Promise<PolicyVersion> {
  const version = await findVersion(db, policy, number);
  if (!version) throw new NotFoundError(`${policy.title} has no version ${number}.`);
  return version;
}

export async function findVersionById(db: Db, id: number): Promise<PolicyVersion | undefined> {
  return await first(db.select().from(policyVersions).where(eq(policyVersions.id, id)).limit(1));
}

export async function findVersionByIri(db: Db, iri: string): Promise<PolicyVersion | undefined> {
  return await first(db.select().from(policyVersions).where(eq(policyVersions.iri, iri)).limit(1));
}

/** The normative content of a version, from its stored document. */
export function versionContent(version: PolicyVersion): PolicyContent {
  return policyContentSchema.parse(version.document.normativeContent);
}

/** Policies of one owner (a remote community's, as followed or mirrored here), by title. */
export async function listPoliciesOwnedBy(db: Db, ownerIri: string): Promise<Policy[]> {
  return await db.select().from(policies).where(eq(policies.ownerIri, ownerIri)).orderBy(asc(policies.title));
}
