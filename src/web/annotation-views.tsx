/**
 * The annotations of a policy as its pages show them (the policy page, a
 * clause page): grouped by clause, each with its author, the version it was
 * made on, and the delete / hide buttons the viewer may use. Annotations in
 * proposal discussions are left out (they live on the proposal).
 */
import type { Context } from "hono";
import type { Child } from "hono/jsx";
import { stewardedCommunities, isSteward } from "../app/permissions.ts";
import { listAnnotations, type AnnotationView } from "../policies/annotations.ts";
import type { Policy, PolicyVersion } from "../policies/policies.ts";
import { ActionButton } from "./components.tsx";
import type { WebEnv } from "./context.ts";
import { AnnotationItem, authorOf, localCommunityOf } from "./policy-components.tsx";

export interface PolicyAnnotations {
  byClause: Map<string | null, AnnotationView[]>;
  /** The list items of one clause's annotations (null: on the whole policy). */
  itemsOf(clauseId: string | null): Child[];
  countOf(clauseId: string | null): number;
  /** Who the viewer may annotate as: themselves, then the communities they steward. */
  asOptions: { value: string; label: string }[];
}

/** `back` is where the delete and hide buttons return to (the page they are on). */
export async function policyAnnotations(c: Context<WebEnv>, policy: Policy, versions: Pick<PolicyVersion, "iri" | "number">[], back: string): Promise<PolicyAnnotations> {
  const { db, origin } = c.get("deps");
  const user = c.get("session")?.user;
  const annotations = (await listAnnotations(db, { policyIri: policy.iri })).filter((a) => !/\/proposals\/\d+$/.test(a.versionIri));
  const byClause = new Map<string | null, AnnotationView[]>();
  for (const annotation of annotations) {
    const list = byClause.get(annotation.clauseId) ?? [];
    list.push(annotation);
    byClause.set(annotation.clauseId, list);
  }
  const versionNumberOf = new Map(versions.map((v) => [v.iri, v.number]));
  // Authors are looked up here, once each: the items below are rendered without queries.
  const authors = new Map<string, Awaited<ReturnType<typeof authorOf>>>();
  for (const annotation of annotations) {
    if (!authors.has(annotation.authorIri)) authors.set(annotation.authorIri, await authorOf(db, origin, annotation.authorIri));
  }
  const stewarded = user ? await stewardedCommunities(db, user) : [];
  // Authors delete their own (or their community's) annotations; stewards of the owning community hide any.
  const { actorIri } = c.get("deps").context.federation;
  const ownIris = new Set(user ? [actorIri(user.username), ...stewarded.map((cm) => actorIri(cm.handle))] : []);
  const canHide = await isSteward(db, await localCommunityOf(db, policy), user);
  const moderation = (annotation: AnnotationView) => {
    const fields = { iri: annotation.iri, back };
    const own = annotation.local && ownIris.has(annotation.authorIri);
    if (!own && !canHide) return undefined;
    return (
      <>
        {own ? <ActionButton action={`/policies/${policy.id}/annotations/delete`} fields={fields} label="Delete my annotation" variant="secondary" /> : null}
        {canHide ? <ActionButton action={`/policies/${policy.id}/annotations/hide`} fields={fields} label="Hide from this policy" variant="secondary" /> : null}
      </>
    );
  };
  return {
    byClause,
    itemsOf: (clauseId) =>
      (byClause.get(clauseId) ?? []).map((annotation) => (
        <AnnotationItem
          annotation={annotation}
          author={authors.get(annotation.authorIri)!}
          versionLabel={versionNumberOf.has(annotation.versionIri) ? `on version ${versionNumberOf.get(annotation.versionIri)}` : undefined}
          actions={moderation(annotation)}
        />
      )),
    countOf: (clauseId) => byClause.get(clauseId)?.length ?? 0,
    asOptions: user ? [{ value: "", label: `Yourself (${user.username})` }, ...stewarded.map((cm) => ({ value: cm.handle, label: cm.name }))] : [],
  };
}
