/**
 * Policies: create or import into a community, edit the draft, publish
 * signed versions, retract them, read versions (local or mirrored) and diff
 * any two. Each handler reads its input, calls one use case
 * (src/app/policies.ts) and maps the result to its response schema
 * (./schemas/policies.ts).
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import {
  createCommunityPolicy,
  diffPolicy,
  importCommunityPolicy,
  listPolicies,
  publishVersion,
  putClause,
  readDraft,
  removeClause,
  replaceDraft,
  resolvePolicyRef,
  retractPolicyVersion,
} from "../app/policies.ts";
import { clauseSchema, policyContentSchema, policyJsonSchema } from "../policies/content.ts";
import { getPolicyById, getVersion, isLocal, listVersions, versionContent, type Policy, type PolicyVersion } from "../policies/policies.ts";
import type { Db } from "../../db/client.ts";
import { optionalUser, requireUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody, jsonResponse, problemResponse, security, IdParam } from "./schemas.ts";
import {
  ClauseParam,
  ClausePosition,
  DiffQuery,
  DiffView,
  ImportRequest,
  ImportResult,
  LookupQuery,
  NewPolicy,
  PolicyDetail,
  PolicyListQuery,
  PolicyLookup,
  PolicyView,
  PublishRequest,
  VersionDetail,
  VersionParam,
  VersionView,
  type PolicyDetailOutput,
  type PolicyViewOutput,
  type VersionViewOutput,
} from "./schemas/policies.ts";

export async function toPolicyView(db: Db, policy: Policy): Promise<PolicyViewOutput> {
  const versions = (await listVersions(db, policy)).filter((v) => !v.retractedAt);
  return {
    id: policy.id,
    iri: policy.iri,
    community: policy.ownerIri,
    local: isLocal(policy),
    slug: policy.slug,
    title: policy.title,
    summary: policy.summary,
    licence: policy.licence,
    headVersion: versions.at(-1)?.number ?? null,
    draftUpdatedAt: policy.draftUpdatedAt?.toISOString() ?? null,
    forkedFrom: policy.forkedFromIri ? { id: policy.forkedFromIri, contentHash: policy.forkedFromHash ?? "" } : null,
    upstream: policy.upstreamIri,
  };
}

export function toVersionView(version: PolicyVersion): VersionViewOutput {
  return {
    iri: version.iri,
    number: version.number,
    contentHash: version.contentHash,
    changelog: version.changelog,
    publishedAt: version.publishedAt.toISOString(),
    receivedAt: version.receivedAt.toISOString(),
    retracted: version.retractedAt !== null,
  };
}

export async function toPolicyDetail(db: Db, policy: Policy): Promise<PolicyDetailOutput> {
  return { ...await toPolicyView(db, policy), versions: (await listVersions(db, policy)).map(toVersionView) };
}

const tags = ["policies"];

const listRoute = createRoute({
  method: "get",
  path: "/policies",
  tags,
  summary: "Policies of a community, or the mirrored copies of other instances' policies",
  request: { query: PolicyListQuery },
  responses: { 200: jsonResponse(z.array(PolicyView), "Policies") },
});

const schemaRoute = createRoute({
  method: "get",
  path: "/policies/schema.json",
  tags,
  summary: "JSON Schema of the Fedalign policy JSON format",
  responses: { 200: jsonResponse(z.record(z.string(), z.unknown()).openapi("PolicyJsonSchema"), "JSON Schema (draft 2020-12)") },
});

const createPolicyRoute = createRoute({
  method: "post",
  path: "/policies",
  tags,
  summary: "Create a policy in a community you steward, with its first draft",
  security,
  request: { body: jsonBody(NewPolicy) },
  responses: { 201: jsonResponse(PolicyDetail, "The new policy"), 400: problemResponse("Invalid content"), 403: problemResponse("Not a steward") },
});

const importRoute = createRoute({
  method: "post",
  path: "/policies/import",
  tags,
  summary: "Import a policy (Model Spec Markdown, constitution JSON or Fedalign JSON) as a new draft",
  security,
  request: { body: jsonBody(ImportRequest) },
  responses: {
    201: jsonResponse(ImportResult, "The new policy and what the import kept and could not map"),
    400: problemResponse("The file could not be imported"),
  },
});

const lookupRoute = createRoute({
  method: "get",
  path: "/policies/lookup",
  tags,
  summary: "Find a policy by id, community/slug, policy IRI or version IRI",
  request: { query: LookupQuery },
  responses: { 200: jsonResponse(PolicyLookup, "The policy (and the version, for a version IRI)") },
});

const getRoute = createRoute({
  method: "get",
  path: "/policies/{id}",
  tags,
  summary: "A policy and its versions",
  request: { params: IdParam },
  responses: { 200: jsonResponse(PolicyDetail, "The policy"), 404: problemResponse("No such policy") },
});

/** Listing, lookup, creation and import. */
function policyCollectionRoutes(deps: ApiDeps) {
  const { db, context } = deps;
  return new OpenAPIHono()
    .openapi(listRoute, async (c) => {
      const query = c.req.valid("query");
      const rows = await listPolicies(context, { community: query.community, mirrored: query.mirrored === "true" });
      return c.json(await Promise.all(rows.map((policy) => toPolicyView(db, policy))), 200);
    })
    .openapi(schemaRoute, (c) => c.json(policyJsonSchema(), 200))
    .openapi(createPolicyRoute, async (c) => {
      const policy = await createCommunityPolicy(context, await requireUser(c, db), c.req.valid("json"));
      return c.json(await toPolicyDetail(db, policy), 201);
    })
    .openapi(importRoute, async (c) => {
      const { policy, report } = await importCommunityPolicy(context, await requireUser(c, db), c.req.valid("json"));
      return c.json({ policy: await toPolicyDetail(db, policy), report }, 201);
    })
    .openapi(lookupRoute, async (c) => {
      const { policy, version } = await resolvePolicyRef(context, c.req.valid("query").ref);
      return c.json({ ...await toPolicyDetail(db, policy), version: version?.number ?? null }, 200);
    })
    .openapi(getRoute, async (c) => c.json(await toPolicyDetail(db, await getPolicyById(db, c.req.valid("param").id)), 200));
}

const readDraftRoute = createRoute({
  method: "get",
  path: "/policies/{id}/draft",
  tags,
  summary: "The working draft (members and stewards of the community)",
  security,
  request: { params: IdParam },
  responses: { 200: jsonResponse(policyContentSchema, "The draft"), 403: problemResponse("Not a member") },
});

const replaceDraftRoute = createRoute({
  method: "put",
  path: "/policies/{id}/draft",
  tags,
  summary: "Replace the working draft (stewards)",
  security,
  request: { params: IdParam, body: jsonBody(policyContentSchema) },
  responses: { 200: jsonResponse(policyContentSchema, "The saved draft"), 400: problemResponse("Invalid content, with every issue listed") },
});

const putClauseRoute = createRoute({
  method: "put",
  path: "/policies/{id}/draft/clauses/{clauseId}",
  tags,
  summary: "Add or replace one clause of the draft (stewards); a new clause goes at the end unless `position` is given",
  security,
  request: { params: ClauseParam, query: ClausePosition, body: jsonBody(clauseSchema) },
  responses: { 200: jsonResponse(policyContentSchema, "The saved draft"), 400: problemResponse("Invalid clause") },
});

const removeClauseRoute = createRoute({
  method: "delete",
  path: "/policies/{id}/draft/clauses/{clauseId}",
  tags,
  summary: "Remove one clause from the draft (stewards)",
  security,
  request: { params: ClauseParam },
  responses: { 200: jsonResponse(policyContentSchema, "The saved draft"), 404: problemResponse("No such clause") },
});

/** The working draft, whole or clause by clause. */
function draftRoutes(deps: ApiDeps) {
  const { db, context } = deps;
  return new OpenAPIHono()
    .openapi(readDraftRoute, async (c) => c.json(await readDraft(context, await requireUser(c, db), c.req.valid("param").id), 200))
    .openapi(replaceDraftRoute, async (c) => c.json(await replaceDraft(context, await requireUser(c, db), c.req.valid("param").id, c.req.valid("json")), 200))
    .openapi(putClauseRoute, async (c) => {
      const { id, clauseId } = c.req.valid("param");
      const draft = await putClause(context, await requireUser(c, db), id, clauseId, c.req.valid("json"), c.req.valid("query").position);
      return c.json(draft, 200);
    })
    .openapi(removeClauseRoute, async (c) => {
      const { id, clauseId } = c.req.valid("param");
      return c.json(await removeClause(context, await requireUser(c, db), id, clauseId), 200);
    });
}

const publishRoute = createRoute({
  method: "post",
  path: "/policies/{id}/publish",
  tags,
  summary: "Publish the draft as a new signed version and send it to followers (stewards)",
  security,
  request: { params: IdParam, body: jsonBody(PublishRequest) },
  responses: { 201: jsonResponse(VersionView, "The new version"), 409: problemResponse("Nothing changed since the last version") },
});

const versionRoute = createRoute({
  method: "get",
  path: "/policies/{id}/versions/{number}",
  tags,
  summary: "One version: metadata, normative content and the signed document",
  request: { params: VersionParam },
  responses: { 200: jsonResponse(VersionDetail, "The version"), 404: problemResponse("No such version") },
});

const retractRoute = createRoute({
  method: "delete",
  path: "/policies/{id}/versions/{number}",
  tags,
  summary: "Retract a version (stewards); followers are sent a Delete",
  security,
  request: { params: VersionParam },
  responses: { 200: jsonResponse(VersionView, "The retracted version"), 409: problemResponse("Already retracted") },
});

const diffRoute = createRoute({
  method: "get",
  path: "/policies/{id}/diff",
  tags,
  summary: "Differences between two versions (or a version and the draft): clauses added, removed, moved, edited word by word",
  request: { params: IdParam, query: DiffQuery },
  responses: { 200: jsonResponse(DiffView, "The diff"), 404: problemResponse("No such version") },
});

/** Versions: publish, read, retract, diff. */
function versionRoutes(deps: ApiDeps) {
  const { db, context } = deps;
  return new OpenAPIHono()
    .openapi(publishRoute, async (c) => {
      const version = await publishVersion(context, await requireUser(c, db), c.req.valid("param").id, c.req.valid("json"));
      return c.json(toVersionView(version), 201);
    })
    .openapi(versionRoute, async (c) => {
      const { id, number } = c.req.valid("param");
      const policy = await getPolicyById(db, id);
      const version = await getVersion(db, policy, number);
      const view = { ...toVersionView(version), policy: await toPolicyView(db, policy), content: versionContent(version), document: version.document };
      return c.json(view, 200);
    })
    .openapi(retractRoute, async (c) => {
      const { id, number } = c.req.valid("param");
      return c.json(toVersionView(await retractPolicyVersion(context, await requireUser(c, db), id, number)), 200);
    })
    .openapi(diffRoute, async (c) => {
      const { from, to } = c.req.valid("query");
      const diff = await diffPolicy(context, await optionalUser(c, db), c.req.valid("param").id, from, to);
      return c.json({ from, to, ...diff }, 200);
    });
}

export function policyRoutes(deps: ApiDeps) {
  return new OpenAPIHono().route("/", policyCollectionRoutes(deps)).route("/", draftRoutes(deps)).route("/", versionRoutes(deps));
}
