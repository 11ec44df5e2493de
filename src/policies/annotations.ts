/**
 * Stored annotations, local and received, and the community's moderation
 * (hiding annotations, blocking actors or whole instances). Parsing and
 * the wire format live in ./annotation.ts.
 */
import { and, asc, eq, isNull } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { annotations, blocks } from "../../db/schema.ts";
import type { Community } from "../communities.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { canonicalHost } from "../hosts.ts";
import { isOutdated, type ParsedAnnotation } from "./annotation.ts";
import { findPolicyByIri, findVersionByIri, headVersion, versionContent } from "./policies.ts";

export type Annotation = typeof annotations.$inferSelect;

/**
 * Stores a new annotation, or applies an edit by its author. Returns
 * undefined when the IRI is held already for another author (a forgery).
 */
export async function storeAnnotation(db: Db, parsed: ParsedAnnotation, note: Record<string, unknown>, local: boolean): Promise<{ annotation: Annotation; created: boolean } | undefined> {
  const existing = await first(db.select().from(annotations).where(eq(annotations.iri, parsed.noteId)).limit(1));
  const values = {
    authorIri: parsed.author,
    policyIri: parsed.policyIri,
    versionIri: parsed.versionIri,
    clauseId: parsed.clauseId,
    motivation: parsed.motivation,
    text: parsed.text,
    selector: parsed.selector,
    suggestedText: parsed.suggestedText,
    note,
  };
  if (existing) {
    if (existing.authorIri !== parsed.author) return undefined;
    const unchanged = (parsed.updated?.getTime() ?? 0) <= (existing.updatedAt?.getTime() ?? 0);
    if (unchanged) return { annotation: existing, created: false };
    const [annotation] = await db.update(annotations).set({ ...values, updatedAt: parsed.updated }).where(eq(annotations.id, existing.id)).returning();
    return { annotation: annotation!, created: false };
  }
  const [annotation] = await db
    .insert(annotations)
    .values({ iri: parsed.noteId, ...values, local, published: parsed.published, updatedAt: parsed.updated, receivedAt: new Date() })
    .returning();
  return { annotation: annotation!, created: true };
}

export async function findAnnotation(db: Db, iri: string): Promise<Annotation | undefined> {
  return await first(db.select().from(annotations).where(eq(annotations.iri, iri)).limit(1));
}

export async function getAnnotation(db: Db, iri: string): Promise<Annotation> {
  const annotation = await findAnnotation(db, iri);
  if (!annotation) throw new NotFoundError(`No annotation ${iri} here.`);
  return annotation;
}

/** Only the author may delete; returns what was deleted. */
export async function deleteAnnotation(db: Db, iri: string, authorIri: string): Promise<Annotation | undefined> {
  const annotation = await findAnnotation(db, iri);
  if (!annotation || annotation.authorIri !== authorIri) return undefined;
  await db.delete(annotations).where(eq(annotations.id, annotation.id));
  return annotation;
}

export async function setHidden(db: Db, annotation: Annotation, hidden: boolean): Promise<Annotation> {
  return (await first(db.update(annotations).set({ hiddenAt: hidden ? new Date() : null }).where(eq(annotations.id, annotation.id)).returning()))!;
}

export interface AnnotationView extends Annotation {
  /** The clause is gone from the newest version we hold, or the quoted span is. */
  outdated: boolean;
}

/**
 * Annotations of a policy (optionally one clause), oldest first, each marked
 * outdated against the newest version held: they stay attached to the
 * clause id across versions.
 */
export async function listAnnotations(db: Db, filter: { policyIri: string; clauseId?: string; versionIri?: string; includeHidden?: boolean }): Promise<AnnotationView[]> {
  const conditions = [eq(annotations.policyIri, filter.policyIri)];
  if (filter.versionIri !== undefined) conditions.push(eq(annotations.versionIri, filter.versionIri));
  if (filter.clauseId !== undefined) conditions.push(eq(annotations.clauseId, filter.clauseId));
  if (!filter.includeHidden) conditions.push(isNull(annotations.hiddenAt));
  const rows = await db.select().from(annotations).where(and(...conditions)).orderBy(asc(annotations.published), asc(annotations.id));
  // No annotations, no need to read the head version (the largest row of a policy) to mark outdated ones.
  if (rows.length === 0) return [];
  const policy = await findPolicyByIri(db, filter.policyIri);
  const head = policy ? await headVersion(db, policy) : undefined;
  const clauses = head ? new Map(versionContent(head).clauses.map((clause) => [clause.id, clause.text])) : undefined;
  return rows.map((row) => ({
    ...row,
    outdated: row.clauseId !== null && clauses !== undefined ? isOutdated(row.selector ?? null, clauses.get(row.clauseId)) : false,
  }));
}

/** The clause's text in the version an annotation targets (for validation). */
export async function clauseTextIn(db: Db, versionIri: string, clauseId: string): Promise<string | undefined> {
  const version = await findVersionByIri(db, versionIri);
  return version ? versionContent(version).clauses.find((clause) => clause.id === clauseId)?.text : undefined;
}

/** A block target in the form blocks are stored and compared: an actor IRI, or a canonical host. */
function blockKey(target: string): { target: string; kind: "actor" | "instance" } {
  const kind = /^https?:\/\//i.test(target.trim()) ? "actor" : "instance";
  const normalised = kind === "actor" ? new URL(target.trim()).href : canonicalHost(target);
  if (!normalised) throw new InvalidInputError(`"${target}" is neither an actor URL nor a host name.`);
  return { target: normalised, kind };
}

export async function blockTarget(db: Db, community: Community, target: string): Promise<{ target: string; kind: "actor" | "instance" }> {
  const key = blockKey(target);
  await db.insert(blocks).values({ communityId: community.id, ...key }).onConflictDoNothing();
  return key;
}

export async function unblockTarget(db: Db, community: Community, target: string): Promise<boolean> {
  const { target: normalised } = blockKey(target);
  const deleted = await db
    .delete(blocks)
    .where(and(eq(blocks.communityId, community.id), eq(blocks.target, normalised)))
    .returning({ target: blocks.target });
  return deleted.length > 0;
}

export async function listBlocks(db: Db, community: Community) {
  return await db.select().from(blocks).where(eq(blocks.communityId, community.id)).orderBy(asc(blocks.target));
}

/** Blocked by the actor's IRI, or by its host (the whole instance). */
export async function isBlocked(db: Db, communityId: number, actorIri: string): Promise<boolean> {
  const host = canonicalHost(actorIri);
  const rows = await db.select({ target: blocks.target, kind: blocks.kind }).from(blocks).where(eq(blocks.communityId, communityId));
  // Rows stored before hosts were canonical are compared in canonical form too.
  return rows.some((row) => row.target === actorIri || (row.kind === "instance" && canonicalHost(row.target) === host));
}
