/**
 * Use cases of annotations: annotating a clause (or commenting in a
 * proposal's discussion) as yourself or as a community you steward,
 * editing and deleting your own, and the moderation of annotations on a
 * community's policies (hiding, blocking actors or instances). Each change
 * sent to other instances is an outbox effect carrying the Note itself.
 */
import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { findCommunityById, getCommunity, type Community } from "../communities.ts";
import { ForbiddenError, InvalidInputError, NotFoundError } from "../errors.ts";
import {
  ANNOTATION_TEXT_MAX,
  buildAnnotationNote,
  parseAnnotationInput,
  parseAnnotationNote,
  type ParsedAnnotation,
} from "../policies/annotation.ts";
import {
  blockTarget,
  clauseTextIn,
  deleteAnnotation,
  findAnnotation,
  getAnnotation,
  listAnnotations,
  listBlocks,
  setHidden,
  storeAnnotation,
  unblockTarget,
  type Annotation,
  type AnnotationView,
} from "../policies/annotations.ts";
import { findPolicyByIri, type Policy } from "../policies/policies.ts";
import { PUBLIC_AUDIENCE } from "../policies/version-document.ts";
import { textToHtml } from "../text.ts";
import { localActorIdentifier } from "../actors/iris.ts";
import { actingAs, canActAs, type LocalActorRef } from "./acting.ts";
import type { AppContext } from "./context.ts";
import type { AnnotationRef } from "./effects.ts";
import { notifyIfReply } from "./notifications.ts";
import { recordEffect } from "./outbox.ts";
import { assertSteward, type Viewer } from "./permissions.ts";
import type { AnnotationEdit, NewAnnotation } from "./social-inputs.ts";

const PROPOSAL_TARGET = /\/proposals\/\d+$/;
const DISCUSSION_MOTIVATIONS = ["comment", "question", "object", "endorse"];

export type NewAnnotationInput = z.output<typeof NewAnnotation>;
export type AnnotationEditInput = z.output<typeof AnnotationEdit>;

/** Annotates a clause (fetched from its origin if not held here), or comments on a proposal. */
export async function annotate(ctx: AppContext, viewer: Viewer, input: NewAnnotationInput): Promise<Annotation> {
  const me = await actingAs(ctx, viewer, input.as);
  // A proposal's discussion, or a reply to an annotation that is on no clause (in a discussion, or on a whole version).
  const parent = await findAnnotation(ctx.db, input.target);
  if (PROPOSAL_TARGET.test(input.target) || parent?.clauseId === null) return await commentOnProposal(ctx, me, input);
  const target = await ctx.federation.resolveClause(input.target);
  if (!target) throw new NotFoundError(`${input.target} is not a clause of a policy version; check the clause IRI.`);
  // The clause's text is read first: parseAnnotationInput checks against it synchronously.
  const clauseText = await clauseTextIn(ctx.db, target.versionIri, target.clauseId);
  const checked = parseAnnotationInput(
    { clauseId: target.clauseId, motivation: input.motivation, text: input.text, quote: input.quote, suggestedText: input.suggestedText },
    (id) => (id === target.clauseId ? clauseText : undefined),
  );
  if (!checked.ok) throw new InvalidInputError(checked.issues.map((issue) => `${issue.path}: ${issue.message}`).join("; "));
  const policy = await heldPolicy(ctx, target.policyIri);
  const owner = new URL(policy.ownerIri);
  const note = buildAnnotationNote({
    id: new URL(`/annotations/${randomUUID()}`, ctx.origin).href,
    author: me.iri,
    clauseIri: input.target,
    versionIri: target.versionIri,
    policyIri: target.policyIri,
    clauseId: target.clauseId,
    motivation: checked.annotation.motivation,
    text: checked.annotation.text,
    selector: checked.selector,
    suggestedText: checked.annotation.suggestedText ?? null,
    published: ctx.clock.now(),
    to: [PUBLIC_AUDIENCE],
    cc: [ctx.federation.followersIri(me.identifier), policy.ownerIri],
    mentions: [{ href: policy.ownerIri, name: `@${owner.pathname.split("/").pop()}@${owner.host}` }],
  });
  return await store(ctx, me.identifier, await parse(ctx, note, "The annotation could not be built"), note, "annotation.created");
}

/** A comment in a proposal's discussion: a plain reply Note, as Mastodon would send. */
async function commentOnProposal(ctx: AppContext, me: LocalActorRef, input: NewAnnotationInput): Promise<Annotation> {
  if (!DISCUSSION_MOTIVATIONS.includes(input.motivation)) {
    throw new InvalidInputError("In a proposal's discussion, use comment, question, endorse or object.");
  }
  const text = checkedText(input.text);
  const target = await ctx.federation.annotationTargets().versionFromIri(input.target);
  if (!target) throw new NotFoundError(`${input.target} is not a proposal held here.`);
  const policy = await heldPolicy(ctx, target.policyIri);
  const note = {
    "@context": "https://www.w3.org/ns/activitystreams",
    id: new URL(`/annotations/${randomUUID()}`, ctx.origin).href,
    type: "Note",
    attributedTo: me.iri,
    inReplyTo: input.target,
    content: textToHtml(text),
    published: ctx.clock.now().toISOString(),
    to: [PUBLIC_AUDIENCE],
    cc: [ctx.federation.followersIri(me.identifier), policy.ownerIri],
  };
  const parsed = await parse(ctx, note, "The comment could not be built");
  return await store(ctx, me.identifier, { ...parsed, motivation: input.motivation as ParsedAnnotation["motivation"] }, note, "annotation.created");
}

/** Edits the text (or suggested text) of your annotation; the edit federates as Update. */
export async function editAnnotation(ctx: AppContext, viewer: Viewer, input: AnnotationEditInput): Promise<Annotation> {
  const annotation = await getAnnotation(ctx.db, input.iri);
  const identifier = await authorIdentifier(ctx, viewer, annotation, "Only the author can edit an annotation.");
  const text = checkedText(input.text ?? annotation.text);
  const note = buildAnnotationNote({
    ...noteInputOf(annotation),
    text,
    suggestedText: annotation.motivation === "suggest-edit" ? (input.suggestedText ?? annotation.suggestedText) : null,
    updated: ctx.clock.now(),
  });
  return await store(ctx, identifier, await parse(ctx, note, "The edit could not be applied"), note, "annotation.updated");
}

/** Deletes your annotation; the deletion federates to everywhere it was shared. Returns what was deleted. */
export async function removeAnnotation(ctx: AppContext, viewer: Viewer, iri: string): Promise<Annotation> {
  const annotation = await getAnnotation(ctx.db, iri);
  const identifier = await authorIdentifier(ctx, viewer, annotation, "Only the author can delete an annotation; stewards can hide it.");
  await heldPolicy(ctx, annotation.policyIri);
  return await ctx.db.transaction(async () => {
    await deleteAnnotation(ctx.db, annotation.iri, annotation.authorIri);
    await recordEffect(ctx.db, { kind: "annotation.deleted", ...refOf(identifier, annotation) }, ctx.clock.now());
    return annotation;
  });
}

/** Hides (or shows again) an annotation on your community's policy; it stays stored. */
export async function hideAnnotation(ctx: AppContext, viewer: Viewer, iri: string, hidden: boolean): Promise<Annotation> {
  const annotation = await getAnnotation(ctx.db, iri);
  await moderatorOf(ctx, viewer, await heldPolicy(ctx, annotation.policyIri));
  return await setHidden(ctx.db, annotation, hidden);
}

/**
 * Annotations of a policy, a version or a clause (by IRI), oldest first.
 * Hidden ones only for the stewards of the policy's community.
 */
export async function annotationsOf(ctx: AppContext, viewer: Viewer, target: string, includeHidden = false): Promise<AnnotationView[]> {
  const lookup = ctx.federation.annotationTargets();
  const clause = await lookup.clauseFromIri(target);
  const version = clause ?? (await lookup.versionFromIri(target));
  if (!version) throw new NotFoundError(`${target} is not a policy, version or clause held here.`);
  if (includeHidden) await moderatorOf(ctx, viewer, await heldPolicy(ctx, version.policyIri));
  // A proposal's discussion is its own thread; a version or policy lists all its annotations.
  const thread = PROPOSAL_TARGET.test(target) ? target : undefined;
  return await listAnnotations(ctx.db, { policyIri: version.policyIri, clauseId: clause?.clauseId, versionIri: thread, includeHidden });
}

/** Actors and instances a community does not accept annotations or offers from (stewards). */
export async function communityBlocks(ctx: AppContext, viewer: Viewer, handle: string): Promise<{ target: string; kind: string }[]> {
  const community = await getCommunity(ctx.db, handle);
  await assertSteward(ctx.db, community, viewer);
  return (await listBlocks(ctx.db, community)).map((block) => ({ target: block.target, kind: block.kind }));
}

/** Blocks an actor (IRI) or a whole instance (host) from a community's policies (stewards). */
export async function block(ctx: AppContext, viewer: Viewer, handle: string, target: string): Promise<{ target: string; kind: string }> {
  const community = await getCommunity(ctx.db, handle);
  await assertSteward(ctx.db, community, viewer);
  return await blockTarget(ctx.db, community, target);
}

/** Lifts a block (stewards). */
export async function unblock(ctx: AppContext, viewer: Viewer, handle: string, target: string): Promise<void> {
  const community = await getCommunity(ctx.db, handle);
  await assertSteward(ctx.db, community, viewer);
  if (!await unblockTarget(ctx.db, community, target)) throw new NotFoundError(`${target} is not blocked.`);
}

async function store(
  ctx: AppContext,
  identifier: string,
  parsed: ParsedAnnotation,
  note: Record<string, unknown>,
  kind: "annotation.created" | "annotation.updated",
): Promise<Annotation> {
  return await ctx.db.transaction(async () => {
    const stored = await storeAnnotation(ctx.db, parsed, note, true);
    if (!stored) throw new InvalidInputError(`${parsed.noteId} is held already for another author.`);
    await recordEffect(ctx.db, { kind, ...refOf(identifier, stored.annotation) }, ctx.clock.now());
    if (stored.created) await notifyIfReply(ctx.db, ctx.origin, stored.annotation, ctx.clock.now());
    return stored.annotation;
  });
}

async function parse(ctx: AppContext, note: Record<string, unknown>, failure: string): Promise<ParsedAnnotation> {
  const parsed = await parseAnnotationNote(note, ctx.federation.annotationTargets());
  if ("ignored" in parsed) throw new InvalidInputError(`${failure}: ${parsed.ignored}.`);
  return parsed;
}

function refOf(identifier: string, annotation: Annotation): AnnotationRef {
  return { identifier, policyIri: annotation.policyIri, annotationIri: annotation.iri, authorIri: annotation.authorIri, note: annotation.note };
}

function checkedText(text: string): string {
  const trimmed = text.trim();
  if (!trimmed || trimmed.length > ANNOTATION_TEXT_MAX) throw new InvalidInputError(`text must be 1 to ${ANNOTATION_TEXT_MAX} characters.`);
  return trimmed;
}

async function heldPolicy(ctx: AppContext, iri: string): Promise<Policy> {
  const policy = await findPolicyByIri(ctx.db, iri);
  if (!policy) throw new NotFoundError(`The policy ${iri} is no longer held here.`);
  return policy;
}

/** The local author the viewer acts as (themself, or a community they steward); refused otherwise. */
async function authorIdentifier(ctx: AppContext, viewer: Viewer, annotation: Annotation, refusal: string): Promise<string> {
  const identifier = annotation.local ? localActorIdentifier(ctx.origin, annotation.authorIri) : undefined;
  if (!identifier || !await canActAs(ctx, viewer, identifier)) {
    if (!viewer) await actingAs(ctx, viewer, undefined);
    throw new ForbiddenError(refusal);
  }
  return identifier;
}

/** The stewards of the community that owns the policy moderate its annotations. */
async function moderatorOf(ctx: AppContext, viewer: Viewer, policy: Policy): Promise<Community> {
  const community = policy.communityId !== null ? await findCommunityById(ctx.db, policy.communityId) : undefined;
  if (!community) throw new ForbiddenError("Only the stewards of the community that owns the policy can moderate its annotations.");
  await assertSteward(ctx.db, community, viewer);
  return community;
}

function noteInputOf(annotation: Annotation) {
  const note = annotation.note as { inReplyTo: string; to: string[]; cc: string[] };
  return {
    id: annotation.iri,
    author: annotation.authorIri,
    clauseIri: note.inReplyTo,
    versionIri: annotation.versionIri,
    policyIri: annotation.policyIri,
    clauseId: annotation.clauseId ?? "",
    motivation: annotation.motivation,
    text: annotation.text,
    selector: annotation.selector ?? null,
    published: annotation.published,
    to: note.to,
    cc: note.cc,
  };
}
