/**
 * Annotations: write, edit and delete your own (as yourself or as a
 * community you steward), list them per policy or clause, and moderate
 * those on your community's policies (hide, block authors or instances).
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { randomUUID } from "node:crypto";
import type { Context } from "hono";
import type { User } from "../accounts/users.ts";
import { assertSteward, findCommunityById, getCommunity } from "../communities.ts";
import { FedalignError, ForbiddenError, InvalidInputError, NotFoundError } from "../errors.ts";
import {
  ANNOTATION_TEXT_MAX,
  MOTIVATIONS,
  buildAnnotationNote,
  parseAnnotationInput,
  parseAnnotationNote,
} from "../policies/annotation.ts";
import {
  blockTarget,
  clauseTextIn,
  deleteAnnotation,
  getAnnotation,
  listAnnotations,
  listBlocks,
  setHidden,
  storeAnnotation,
  unblockTarget,
  type Annotation,
} from "../policies/annotations.ts";
import { findPolicyByIri, type Policy } from "../policies/policies.ts";
import { PUBLIC_AUDIENCE } from "../policies/version-document.ts";
import { annotationLookup, resolveClause, sendAnnotation } from "../../federation/annotations.ts";
import { RefusedVersion } from "../../federation/persist-policy.ts";
import { afterCommit } from "../../federation/outgoing.ts";
import { requireUser } from "./auth.ts";
import { fedContext, type ApiDeps } from "./deps.ts";
import { jsonBody, jsonResponse, problemResponse, security } from "./schemas.ts";
import { actorIri } from "./views.ts";
import { textToHtml } from "../text.ts";

const PROPOSAL_TARGET = /\/proposals\/\d+$/;

const NewAnnotation = z
  .object({
    target: z.string().url().openapi({ description: "The clause IRI (…/versions/N/clauses/ID), or a proposal IRI to join its discussion" }),
    motivation: z.enum(MOTIVATIONS),
    text: z.string(),
    quote: z.string().optional(),
    suggestedText: z.string().optional(),
    as: z.string().optional().openapi({ description: "Annotate as a community you steward" }),
  })
  .strict()
  .openapi("NewAnnotation");
const AnnotationEdit = z
  .object({ iri: z.string().url(), text: z.string().optional(), suggestedText: z.string().optional() })
  .strict()
  .openapi("AnnotationEdit");
const IriBody = z.object({ iri: z.string().url() }).strict();
const HideBody = IriBody.extend({ hidden: z.boolean().default(true) }).strict().openapi("AnnotationHide");
const BlockBody = z.object({ target: z.string().min(1).openapi({ description: "An actor IRI, or a host name to block a whole instance" }) }).strict().openapi("Block");
const HandleParam = z.object({ handle: z.string().openapi({ param: { name: "handle", in: "path" } }) });
const AnnotationView = z.record(z.string(), z.unknown()).openapi("Annotation");

function toView(annotation: Annotation & { outdated?: boolean }) {
  return {
    iri: annotation.iri,
    author: annotation.authorIri,
    policy: annotation.policyIri,
    version: annotation.versionIri,
    clause: annotation.clauseId,
    motivation: annotation.motivation,
    text: annotation.text,
    quote: annotation.selector?.exact ?? null,
    suggestedText: annotation.suggestedText,
    outdated: annotation.outdated ?? false,
    hidden: annotation.hiddenAt !== null,
    local: annotation.local,
    published: annotation.published.toISOString(),
    updated: annotation.updatedAt?.toISOString() ?? null,
  };
}

/** A clause held here, or fetched and verified from its origin now (no follow needed). */
async function resolveTarget(ctx: ReturnType<typeof fedContext>, iri: string) {
  try {
    return await resolveClause(ctx, iri);
  } catch (error) {
    if (error instanceof RefusedVersion) throw new FedalignError(`Cannot annotate ${iri}: ${error.message}.`, 400);
    throw new FedalignError(`Cannot fetch the version of ${iri}: ${(error as Error).message}.`, 502);
  }
}

export function annotationRoutes(deps: ApiDeps) {
  const { db, origin } = deps;
  const app = new OpenAPIHono();

  const author = (c: Context, as: string | undefined): { user: User; identifier: string; iri: string } => {
    const user = requireUser(c, db);
    if (as === undefined) return { user, identifier: user.username, iri: actorIri(origin, user.username) };
    const community = getCommunity(db, as);
    assertSteward(db, community, user);
    return { user, identifier: community.handle, iri: actorIri(origin, community.handle) };
  };
  const policyOf = (annotation: Annotation): Policy => {
    const policy = findPolicyByIri(db, annotation.policyIri);
    if (!policy) throw new NotFoundError(`The policy ${annotation.policyIri} is no longer held here.`);
    return policy;
  };
  const stewardOfPolicy = (c: Context, policy: Policy) => {
    const community = policy.communityId !== null ? findCommunityById(db, policy.communityId) : undefined;
    if (!community) throw new ForbiddenError("Only the stewards of the community that owns the policy can moderate its annotations.");
    assertSteward(db, community, requireUser(c, db));
    return community;
  };

  app.openapi(
    createRoute({
      method: "post",
      path: "/annotations",
      tags: ["annotations"],
      summary: "Annotate a clause of a version held here (local or mirrored); it goes to the policy's community",
      security,
      request: { body: jsonBody(NewAnnotation) },
      responses: { 201: jsonResponse(AnnotationView, "The annotation"), 400: problemResponse("Invalid annotation"), 404: problemResponse("Unknown clause") },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const me = author(c, body.as);
      const ctx = fedContext(deps);
      if (PROPOSAL_TARGET.test(body.target)) return c.json(toView(await commentOnProposal(ctx, me, body.target, body.text, body.motivation)), 201);
      const target = await resolveTarget(ctx, body.target);
      if (!target) throw new NotFoundError(`${body.target} is not a clause of a policy version; check the clause IRI.`);
      const checked = parseAnnotationInput(
        { clauseId: target.clauseId, motivation: body.motivation, text: body.text, quote: body.quote, suggestedText: body.suggestedText },
        (id) => clauseTextIn(db, target.versionIri, id),
      );
      if (!checked.ok) throw new InvalidInputError(checked.issues.map((issue) => `${issue.path}: ${issue.message}`).join("; "));
      const policy = findPolicyByIri(db, target.policyIri)!;
      const note = buildAnnotationNote({
        id: new URL(`/annotations/${randomUUID()}`, origin).href,
        author: me.iri,
        clauseIri: body.target,
        versionIri: target.versionIri,
        policyIri: target.policyIri,
        clauseId: target.clauseId,
        motivation: checked.annotation.motivation,
        text: checked.annotation.text,
        selector: checked.selector,
        suggestedText: checked.annotation.suggestedText ?? null,
        published: new Date(),
        to: [PUBLIC_AUDIENCE],
        cc: [`${me.iri}/followers`, policy.ownerIri],
        mentions: [{ href: policy.ownerIri, name: `@${new URL(policy.ownerIri).pathname.split("/").pop()}@${new URL(policy.ownerIri).host}` }],
      });
      const parsed = parseAnnotationNote(note, annotationLookup(ctx));
      if ("ignored" in parsed) throw new InvalidInputError(`The annotation could not be built: ${parsed.ignored}.`);
      const { annotation } = storeAnnotation(db, parsed, note, true)!;
      await afterCommit("send an annotation", () => sendAnnotation(ctx, me.identifier, policy, annotation, "create"));
      return c.json(toView(annotation), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/annotations",
      tags: ["annotations"],
      summary: "Annotations of a policy, a version or a clause (by IRI), oldest first, each marked outdated or not",
      request: { query: z.object({ target: z.string().url(), hidden: z.enum(["true", "false"]).optional() }) },
      responses: { 200: jsonResponse(z.array(AnnotationView), "Annotations"), 404: problemResponse("Unknown target") },
    }),
    (c) => {
      const query = c.req.valid("query");
      const lookup = annotationLookup(fedContext(deps));
      const clause = lookup.clauseFromIri(query.target);
      const version = clause ?? lookup.versionFromIri(query.target);
      if (!version) throw new NotFoundError(`${query.target} is not a policy, version or clause held here.`);
      const policy = findPolicyByIri(db, version.policyIri)!;
      let includeHidden = false;
      if (query.hidden === "true") {
        stewardOfPolicy(c, policy);
        includeHidden = true;
      }
      // A proposal's discussion is its own thread; a version or policy lists all its annotations.
      const thread = PROPOSAL_TARGET.test(query.target) ? query.target : undefined;
      const rows = listAnnotations(db, { policyIri: version.policyIri, clauseId: clause?.clauseId, versionIri: thread, includeHidden });
      return c.json(rows.map(toView), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/annotations",
      tags: ["annotations"],
      summary: "Edit your annotation's text (or suggested text); the edit federates as Update",
      security,
      request: { body: jsonBody(AnnotationEdit) },
      responses: { 200: jsonResponse(AnnotationView, "The edited annotation"), 403: problemResponse("Not yours") },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const annotation = getAnnotation(db, body.iri);
      const user = requireUser(c, db);
      const identifier = annotation.local ? localIdentifier(annotation.authorIri) : undefined;
      if (!identifier || !canActAs(user, identifier)) throw new ForbiddenError("Only the author can edit an annotation.");
      const text = body.text?.trim() ?? annotation.text;
      if (!text || text.length > ANNOTATION_TEXT_MAX) throw new InvalidInputError(`text must be 1 to ${ANNOTATION_TEXT_MAX} characters.`);
      const ctx = fedContext(deps);
      const note = buildAnnotationNote({
        ...noteInputOf(annotation),
        text,
        suggestedText: annotation.motivation === "suggest-edit" ? (body.suggestedText ?? annotation.suggestedText) : null,
        updated: new Date(),
      });
      const parsed = parseAnnotationNote(note, annotationLookup(ctx));
      if ("ignored" in parsed) throw new InvalidInputError(`The edit could not be applied: ${parsed.ignored}.`);
      const stored = storeAnnotation(db, parsed, note, true)!;
      await afterCommit("send an annotation edit", () => sendAnnotation(ctx, identifier, policyOf(stored.annotation), stored.annotation, "update"));
      return c.json(toView(stored.annotation), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/annotations",
      tags: ["annotations"],
      summary: "Delete your annotation; the deletion federates to everywhere it was shared",
      security,
      request: { body: jsonBody(IriBody) },
      responses: { 200: jsonResponse(AnnotationView, "The deleted annotation"), 403: problemResponse("Not yours") },
    }),
    async (c) => {
      const annotation = getAnnotation(db, c.req.valid("json").iri);
      const user = requireUser(c, db);
      const identifier = annotation.local ? localIdentifier(annotation.authorIri) : undefined;
      if (!identifier || !canActAs(user, identifier)) throw new ForbiddenError("Only the author can delete an annotation; stewards can hide it.");
      const policy = policyOf(annotation);
      deleteAnnotation(db, annotation.iri, annotation.authorIri);
      const ctx = fedContext(deps);
      await afterCommit("send an annotation's deletion", () => sendAnnotation(ctx, identifier, policy, annotation, "delete"));
      return c.json(toView(annotation), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/annotations/hide",
      tags: ["annotations"],
      summary: "Hide (or show again) an annotation on your community's policy (stewards); it stays stored",
      security,
      request: { body: jsonBody(HideBody) },
      responses: { 200: jsonResponse(AnnotationView, "The annotation"), 403: problemResponse("Not a steward of the policy's community") },
    }),
    (c) => {
      const body = c.req.valid("json");
      const annotation = getAnnotation(db, body.iri);
      stewardOfPolicy(c, policyOf(annotation));
      return c.json(toView(setHidden(db, annotation, body.hidden)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/communities/{handle}/blocks",
      tags: ["annotations"],
      summary: "Actors and instances the community does not accept annotations or offers from (stewards)",
      security,
      request: { params: HandleParam },
      responses: { 200: jsonResponse(z.array(z.object({ target: z.string(), kind: z.string() })), "Blocks") },
    }),
    (c) => {
      const community = getCommunity(db, c.req.valid("param").handle);
      assertSteward(db, community, requireUser(c, db));
      return c.json(listBlocks(db, community).map((b) => ({ target: b.target, kind: b.kind })), 200);
    },
  );

  for (const method of ["post", "delete"] as const) {
    app.openapi(
      createRoute({
        method,
        path: "/communities/{handle}/blocks",
        tags: ["annotations"],
        summary: method === "post" ? "Block an actor (IRI) or a whole instance (host) (stewards)" : "Lift a block (stewards)",
        security,
        request: { params: HandleParam, body: jsonBody(BlockBody) },
        responses: { 200: jsonResponse(z.object({ target: z.string(), blocked: z.boolean() }), "The block") },
      }),
      (c) => {
        const community = getCommunity(db, c.req.valid("param").handle);
        assertSteward(db, community, requireUser(c, db));
        const target = c.req.valid("json").target;
        if (method === "post") return c.json({ target: blockTarget(db, community, target).target, blocked: true }, 200);
        if (!unblockTarget(db, community, target)) throw new NotFoundError(`${target} is not blocked.`);
        return c.json({ target, blocked: false }, 200);
      },
    );
  }

  /** A comment in a proposal's discussion: a plain reply Note, as Mastodon would send. */
  async function commentOnProposal(ctx: ReturnType<typeof fedContext>, me: { identifier: string; iri: string }, proposalIri: string, text: string, motivation: string) {
    if (motivation !== "comment" && motivation !== "question" && motivation !== "object" && motivation !== "endorse") {
      throw new InvalidInputError("In a proposal's discussion, use comment, question, endorse or object.");
    }
    const trimmed = text.trim();
    if (!trimmed || trimmed.length > ANNOTATION_TEXT_MAX) throw new InvalidInputError(`text must be 1 to ${ANNOTATION_TEXT_MAX} characters.`);
    const target = annotationLookup(ctx).versionFromIri(proposalIri);
    if (!target) throw new NotFoundError(`${proposalIri} is not a proposal held here.`);
    const policy = findPolicyByIri(db, target.policyIri)!;
    const note = {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: new URL(`/annotations/${randomUUID()}`, origin).href,
      type: "Note",
      attributedTo: me.iri,
      inReplyTo: proposalIri,
      content: textToHtml(trimmed),
      published: new Date().toISOString(),
      to: [PUBLIC_AUDIENCE],
      cc: [`${me.iri}/followers`, policy.ownerIri],
    };
    const parsed = parseAnnotationNote(note, annotationLookup(ctx));
    if ("ignored" in parsed) throw new InvalidInputError(`The comment could not be built: ${parsed.ignored}.`);
    const { annotation } = storeAnnotation(db, { ...parsed, motivation: motivation as typeof parsed.motivation }, note, true)!;
    await afterCommit("send a comment on a proposal", () => sendAnnotation(ctx, me.identifier, policy, annotation, "create"));
    return annotation;
  }

  /** A local actor's identifier from its IRI. */
  function localIdentifier(iri: string): string | undefined {
    const prefix = new URL("/actors/", origin).href;
    return iri.startsWith(prefix) ? iri.slice(prefix.length) : undefined;
  }

  /** The user themself, or a community they steward. */
  function canActAs(user: User, identifier: string): boolean {
    if (identifier === user.username) return true;
    try {
      assertSteward(db, getCommunity(db, identifier), user);
      return true;
    } catch {
      return false;
    }
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

  return app;
}
