/**
 * Annotations: write, edit and delete your own (as yourself or as a
 * community you steward), list them per policy or clause, and moderate
 * those on your community's policies (hide, block authors or instances).
 * The use cases are in src/app/annotations.ts.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import {
  annotate,
  annotationsOf,
  block,
  communityBlocks,
  editAnnotation,
  hideAnnotation,
  removeAnnotation,
  unblock,
} from "../app/annotations.ts";
import type { Annotation } from "../policies/annotations.ts";
import { optionalUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { HandleParam, jsonBody, jsonResponse, problemResponse, security } from "./schemas.ts";
import {
  AnnotationEdit,
  AnnotationHide,
  AnnotationIri,
  AnnotationView,
  AnnotationsQuery,
  BlockBody,
  BlockChange,
  BlockView,
  NewAnnotation,
} from "./schemas/social.ts";

export function toAnnotationView(annotation: Annotation & { outdated?: boolean }): z.output<typeof AnnotationView> {
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

const create = createRoute({
  method: "post",
  path: "/annotations",
  tags: ["annotations"],
  summary: "Annotate a clause of a version held here (local or mirrored); it goes to the policy's community",
  security,
  request: { body: jsonBody(NewAnnotation) },
  responses: { 201: jsonResponse(AnnotationView, "The annotation"), 400: problemResponse("Invalid annotation"), 404: problemResponse("Unknown clause") },
});

const list = createRoute({
  method: "get",
  path: "/annotations",
  tags: ["annotations"],
  summary: "Annotations of a policy, a version or a clause (by IRI), oldest first, each marked outdated or not",
  request: { query: AnnotationsQuery },
  responses: { 200: jsonResponse(z.array(AnnotationView), "Annotations"), 404: problemResponse("Unknown target") },
});

const edit = createRoute({
  method: "patch",
  path: "/annotations",
  tags: ["annotations"],
  summary: "Edit your annotation's text (or suggested text); the edit federates as Update",
  security,
  request: { body: jsonBody(AnnotationEdit) },
  responses: { 200: jsonResponse(AnnotationView, "The edited annotation"), 403: problemResponse("Not yours") },
});

const remove = createRoute({
  method: "delete",
  path: "/annotations",
  tags: ["annotations"],
  summary: "Delete your annotation; the deletion federates to everywhere it was shared",
  security,
  request: { body: jsonBody(AnnotationIri) },
  responses: { 200: jsonResponse(AnnotationView, "The deleted annotation"), 403: problemResponse("Not yours") },
});

const hide = createRoute({
  method: "post",
  path: "/annotations/hide",
  tags: ["annotations"],
  summary: "Hide (or show again) an annotation on your community's policy (stewards); it stays stored",
  security,
  request: { body: jsonBody(AnnotationHide) },
  responses: { 200: jsonResponse(AnnotationView, "The annotation"), 403: problemResponse("Not a steward of the policy's community") },
});

const listBlocks = createRoute({
  method: "get",
  path: "/communities/{handle}/blocks",
  tags: ["annotations"],
  summary: "Actors and instances the community does not accept annotations or offers from (stewards)",
  security,
  request: { params: HandleParam },
  responses: { 200: jsonResponse(z.array(BlockView), "Blocks") },
});

const changeBlock = (method: "post" | "delete") =>
  createRoute({
    method,
    path: "/communities/{handle}/blocks",
    tags: ["annotations"],
    summary: method === "post" ? "Block an actor (IRI) or a whole instance (host) (stewards)" : "Lift a block (stewards)",
    security,
    request: { params: HandleParam, body: jsonBody(BlockBody) },
    responses: { 200: jsonResponse(BlockChange, "The block") },
  });
const addBlock = changeBlock("post");
const liftBlock = changeBlock("delete");

export function annotationRoutes(deps: ApiDeps) {
  const { db, context } = deps;
  const app = new OpenAPIHono();

  app.openapi(create, async (c) => c.json(toAnnotationView(await annotate(context, await optionalUser(c, db), c.req.valid("json"))), 201));

  app.openapi(list, async (c) => {
    const query = c.req.valid("query");
    return c.json((await annotationsOf(context, await optionalUser(c, db), query.target, query.hidden === "true")).map(toAnnotationView), 200);
  });

  app.openapi(edit, async (c) => c.json(toAnnotationView(await editAnnotation(context, await optionalUser(c, db), c.req.valid("json"))), 200));

  app.openapi(remove, async (c) => c.json(toAnnotationView(await removeAnnotation(context, await optionalUser(c, db), c.req.valid("json").iri)), 200));

  app.openapi(hide, async (c) => {
    const body = c.req.valid("json");
    return c.json(toAnnotationView(await hideAnnotation(context, await optionalUser(c, db), body.iri, body.hidden)), 200);
  });

  app.openapi(listBlocks, async (c) => c.json(await communityBlocks(context, await optionalUser(c, db), c.req.valid("param").handle), 200));

  app.openapi(addBlock, async (c) => {
    const blocked = await block(context, await optionalUser(c, db), c.req.valid("param").handle, c.req.valid("json").target);
    return c.json({ target: blocked.target, blocked: true }, 200);
  });

  app.openapi(liftBlock, async (c) => {
    const target = c.req.valid("json").target;
    await unblock(context, await optionalUser(c, db), c.req.valid("param").handle, target);
    return c.json({ target, blocked: false }, 200);
  });

  return app;
}
