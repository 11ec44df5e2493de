/**
 * Policies: create or import into a community, edit the draft, publish
 * signed versions, retract them, read versions (local or mirrored) and diff
 * any two. Publishing commits first; the Create/Update goes out afterwards.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { User } from "../accounts/users.ts";
import { assertSteward, findCommunityById, getCommunity, listCommunities, memberRole, type Community } from "../communities.ts";
import { ForbiddenError, InvalidInputError, NotFoundError } from "../errors.ts";
import { clauseSchema, policyContentSchema, policyJsonSchema, type PolicyContent } from "../policies/content.ts";
import { diffContents } from "../policies/diff.ts";
import { importPolicy } from "../policies/import/json.ts";
import {
  createPolicy,
  findPolicyByIri,
  findVersionByIri,
  freeSlug,
  getDraft,
  getPolicyById,
  getVersion,
  isLocal,
  listCommunityPolicies,
  listMirroredPolicies,
  listVersions,
  saveDraft,
  slugFromTitle,
  versionContent,
  type Policy,
  type PolicyVersion,
} from "../policies/policies.ts";
import { publishVersion, retractPolicyVersion } from "../app/policies.ts";
import { optionalUser, requireUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody, jsonResponse, problemResponse, security, IdParam } from "./schemas.ts";


const PolicyView = z
  .object({
    id: z.number().int(),
    iri: z.string().url(),
    community: z.string().url().openapi({ description: "The owning community's actor IRI" }),
    local: z.boolean(),
    slug: z.string(),
    title: z.string(),
    summary: z.string(),
    licence: z.string(),
    headVersion: z.number().int().nullable(),
    draftUpdatedAt: z.string().datetime().nullable(),
    forkedFrom: z.object({ id: z.string(), contentHash: z.string() }).nullable(),
    upstream: z.string().nullable(),
  })
  .openapi("Policy");

const VersionView = z
  .object({
    iri: z.string().url(),
    number: z.number().int(),
    contentHash: z.string(),
    changelog: z.string(),
    publishedAt: z.string().datetime(),
    receivedAt: z.string().datetime(),
    retracted: z.boolean(),
  })
  .openapi("PolicyVersion");

const PolicyDetail = PolicyView.extend({ versions: z.array(VersionView) }).openapi("PolicyDetail");
const VersionDetail = VersionView.extend({ policy: PolicyView, content: policyContentSchema, document: z.record(z.string(), z.unknown()) }).openapi("PolicyVersionDetail");

const NewPolicy = z
  .object({ community: z.string(), slug: z.string().optional(), content: policyContentSchema })
  .strict()
  .openapi("NewPolicy");

const ImportRequest = z
  .object({
    community: z.string(),
    slug: z.string().optional(),
    format: z.enum(["modelspec", "constitution", "json"]),
    source: z.string().min(1, "must not be empty").openapi({ description: "The file's text" }),
    title: z.string().optional(),
    licence: z.string().optional(),
  })
  .strict()
  .openapi("PolicyImport");

const PublishRequest = z.object({ message: z.string().max(5000).optional() }).strict().openapi("PublishRequest");
const VersionParam = IdParam.extend({
  number: z.coerce.number().int().positive().openapi({ param: { name: "number", in: "path" } }),
});
const DiffQuery = z.object({
  from: z.string().regex(/^(\d+|draft)$/, "must be a version number or 'draft'"),
  to: z.string().regex(/^(\d+|draft)$/, "must be a version number or 'draft'"),
});

function toPolicyView(db: ApiDeps["db"], policy: Policy) {
  const versions = listVersions(db, policy).filter((v) => !v.retractedAt);
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

function toVersionView(version: PolicyVersion) {
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

export function policyRoutes(deps: ApiDeps) {
  const { db, origin } = deps;
  const app = new OpenAPIHono();

  /** The local community that owns a policy; mirrored copies cannot be edited here. */
  const ownerCommunity = (policy: Policy): Community => {
    const community = policy.communityId !== null ? findCommunityById(db, policy.communityId) : undefined;
    if (!community) throw new InvalidInputError(`${policy.iri} is a mirrored copy of another instance's policy; fork it to edit it.`);
    return community;
  };
  const stewardPolicy = (c: Context, id: number): { user: User; policy: Policy; community: Community } => {
    const user = requireUser(c, db);
    const policy = getPolicyById(db, id);
    const community = ownerCommunity(policy);
    assertSteward(db, community, user);
    return { user, policy, community };
  };

  const detail = (policy: Policy) => ({ ...toPolicyView(db, policy), versions: listVersions(db, policy).map(toVersionView) });

  /** A policy by numeric id, community/slug, policy IRI or version IRI. */
  const resolveRef = (ref: string): { policy: Policy; version?: PolicyVersion } => {
    if (/^\d+$/.test(ref)) return { policy: getPolicyById(db, Number(ref)) };
    const local = /^([a-z0-9_]+)\/([a-z0-9-]+)$/.exec(ref);
    if (local) {
      const community = getCommunity(db, local[1]!);
      const policy = listCommunityPolicies(db, community).find((p) => p.slug === local[2]);
      if (!policy) throw new NotFoundError(`Community "${community.handle}" has no policy "${local[2]}".`);
      return { policy };
    }
    const version = findVersionByIri(db, ref);
    if (version) return { policy: getPolicyById(db, version.policyId), version };
    const policy = findPolicyByIri(db, ref);
    if (policy) return { policy };
    throw new NotFoundError(`No policy or version "${ref}" here; use an id, community/slug, or an IRI this instance holds (follow the policy to mirror it).`);
  };

  app.openapi(
    createRoute({
      method: "get",
      path: "/policies",
      tags: ["policies"],
      summary: "Policies of a community, or the mirrored copies of other instances' policies",
      request: { query: z.object({ community: z.string().optional(), mirrored: z.enum(["true", "false"]).optional() }) },
      responses: { 200: jsonResponse(z.array(PolicyView), "Policies") },
    }),
    (c) => {
      const query = c.req.valid("query");
      const rows = query.community
        ? listCommunityPolicies(db, getCommunity(db, query.community))
        : query.mirrored === "true"
          ? listMirroredPolicies(db)
          : listCommunities(db).flatMap((community) => listCommunityPolicies(db, community));
      return c.json(rows.map((policy) => toPolicyView(db, policy)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/policies/schema.json",
      tags: ["policies"],
      summary: "JSON Schema of the Fedalign policy JSON format",
      responses: { 200: jsonResponse(z.record(z.string(), z.unknown()), "JSON Schema (draft 2020-12)") },
    }),
    (c) => c.json(policyJsonSchema(), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/policies",
      tags: ["policies"],
      summary: "Create a policy in a community you steward, with its first draft",
      security,
      request: { body: jsonBody(NewPolicy) },
      responses: { 201: jsonResponse(PolicyDetail, "The new policy"), 400: problemResponse("Invalid content"), 403: problemResponse("Not a steward") },
    }),
    (c) => {
      const user = requireUser(c, db);
      const body = c.req.valid("json");
      const community = getCommunity(db, body.community);
      assertSteward(db, community, user);
      const slug = body.slug ?? freeSlug(db, community, slugFromTitle(body.content.title));
      return c.json(detail(createPolicy(db, { origin, community, slug, content: body.content })), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/policies/import",
      tags: ["policies"],
      summary: "Import a policy (Model Spec Markdown, constitution JSON or Fedalign JSON) as a new draft",
      security,
      request: { body: jsonBody(ImportRequest) },
      responses: {
        201: jsonResponse(z.object({ policy: PolicyDetail, report: z.record(z.string(), z.unknown()) }), "The new policy and what the import kept and could not map"),
        400: problemResponse("The file could not be imported"),
      },
    }),
    (c) => {
      const user = requireUser(c, db);
      const body = c.req.valid("json");
      const community = getCommunity(db, body.community);
      assertSteward(db, community, user);
      const { content, report } = importPolicy(body.source, body.format, { title: body.title, licence: body.licence });
      const slug = body.slug ?? freeSlug(db, community, slugFromTitle(content.title));
      const policy = createPolicy(db, { origin, community, slug, content });
      return c.json({ policy: detail(policy), report: report as unknown as Record<string, unknown> }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/policies/lookup",
      tags: ["policies"],
      summary: "Find a policy by id, community/slug, policy IRI or version IRI",
      request: { query: z.object({ ref: z.string().min(1) }) },
      responses: { 200: jsonResponse(PolicyDetail.extend({ version: z.number().int().nullable() }), "The policy (and the version, for a version IRI)") },
    }),
    (c) => {
      const { policy, version } = resolveRef(c.req.valid("query").ref);
      return c.json({ ...detail(policy), version: version?.number ?? null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/policies/{id}",
      tags: ["policies"],
      summary: "A policy and its versions",
      request: { params: IdParam },
      responses: { 200: jsonResponse(PolicyDetail, "The policy"), 404: problemResponse("No such policy") },
    }),
    (c) => c.json(detail(getPolicyById(db, c.req.valid("param").id)), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/policies/{id}/draft",
      tags: ["policies"],
      summary: "The working draft (members and stewards of the community)",
      security,
      request: { params: IdParam },
      responses: { 200: jsonResponse(policyContentSchema, "The draft"), 403: problemResponse("Not a member") },
    }),
    (c) => {
      const user = requireUser(c, db);
      const policy = getPolicyById(db, c.req.valid("param").id);
      const community = ownerCommunity(policy);
      if (!user.isAdmin && !memberRole(db, community, user)) {
        throw new ForbiddenError(`Only members of "${community.handle}" can read its drafts.`);
      }
      return c.json(getDraft(policy), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/policies/{id}/draft",
      tags: ["policies"],
      summary: "Replace the working draft (stewards)",
      security,
      request: { params: IdParam, body: jsonBody(policyContentSchema) },
      responses: { 200: jsonResponse(policyContentSchema, "The saved draft"), 400: problemResponse("Invalid content, with every issue listed") },
    }),
    (c) => {
      const { policy } = stewardPolicy(c, c.req.valid("param").id);
      return c.json(getDraft(saveDraft(db, policy, c.req.valid("json") as PolicyContent)), 200);
    },
  );

  const ClauseParam = IdParam.extend({ clauseId: z.string().min(1).openapi({ param: { name: "clauseId", in: "path" } }) });

  /** Re-validates the whole draft after a clause edit, so cross-clause rules (unique ids, sections) hold. */
  const saveChecked = (policy: Policy, content: unknown) => {
    const parsed = policyContentSchema.safeParse(content);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
      throw new InvalidInputError(`The draft would be invalid: ${detail}`);
    }
    return getDraft(saveDraft(db, policy, parsed.data));
  };

  app.openapi(
    createRoute({
      method: "put",
      path: "/policies/{id}/draft/clauses/{clauseId}",
      tags: ["policies"],
      summary: "Add or replace one clause of the draft (stewards); a new clause goes at the end unless `position` is given",
      security,
      request: {
        params: ClauseParam,
        query: z.object({ position: z.coerce.number().int().min(0).optional() }),
        body: jsonBody(clauseSchema),
      },
      responses: { 200: jsonResponse(policyContentSchema, "The saved draft"), 400: problemResponse("Invalid clause") },
    }),
    (c) => {
      const { id, clauseId } = c.req.valid("param");
      const { policy } = stewardPolicy(c, id);
      const clause = c.req.valid("json");
      if (clause.id !== clauseId) throw new InvalidInputError(`The clause's id "${clause.id}" does not match the URL's "${clauseId}".`);
      const draft = getDraft(policy);
      const index = draft.clauses.findIndex((existing) => existing.id === clauseId);
      const position = c.req.valid("query").position;
      if (index >= 0) draft.clauses.splice(index, 1);
      const at = position ?? (index >= 0 ? index : draft.clauses.length);
      draft.clauses.splice(Math.min(at, draft.clauses.length), 0, clause);
      return c.json(saveChecked(policy, draft), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/policies/{id}/draft/clauses/{clauseId}",
      tags: ["policies"],
      summary: "Remove one clause from the draft (stewards)",
      security,
      request: { params: ClauseParam },
      responses: { 200: jsonResponse(policyContentSchema, "The saved draft"), 404: problemResponse("No such clause") },
    }),
    (c) => {
      const { id, clauseId } = c.req.valid("param");
      const { policy } = stewardPolicy(c, id);
      const draft = getDraft(policy);
      if (!draft.clauses.some((clause) => clause.id === clauseId)) throw new NotFoundError(`The draft has no clause "${clauseId}".`);
      draft.clauses = draft.clauses.filter((clause) => clause.id !== clauseId);
      return c.json(saveChecked(policy, draft), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/policies/{id}/publish",
      tags: ["policies"],
      summary: "Publish the draft as a new signed version and send it to followers (stewards)",
      security,
      request: { params: IdParam, body: jsonBody(PublishRequest) },
      responses: { 201: jsonResponse(VersionView, "The new version"), 409: problemResponse("Nothing changed since the last version") },
    }),
    async (c) => {
      const version = await publishVersion(deps.context, requireUser(c, db), c.req.valid("param").id, c.req.valid("json"));
      return c.json(toVersionView(version), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/policies/{id}/versions/{number}",
      tags: ["policies"],
      summary: "One version: metadata, normative content and the signed document",
      request: { params: VersionParam },
      responses: { 200: jsonResponse(VersionDetail, "The version"), 404: problemResponse("No such version") },
    }),
    (c) => {
      const { id, number } = c.req.valid("param");
      const policy = getPolicyById(db, id);
      const version = getVersion(db, policy, number);
      return c.json(
        { ...toVersionView(version), policy: toPolicyView(db, policy), content: versionContent(version), document: version.document },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/policies/{id}/versions/{number}",
      tags: ["policies"],
      summary: "Retract a version (stewards); followers are sent a Delete",
      security,
      request: { params: VersionParam },
      responses: { 200: jsonResponse(VersionView, "The retracted version"), 409: problemResponse("Already retracted") },
    }),
    async (c) => {
      const { id, number } = c.req.valid("param");
      const version = retractPolicyVersion(deps.context, requireUser(c, db), id, number);
      return c.json(toVersionView(version), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/policies/{id}/diff",
      tags: ["policies"],
      summary: "Differences between two versions (or a version and the draft): clauses added, removed, moved, edited word by word",
      request: { params: IdParam, query: DiffQuery },
      responses: { 200: jsonResponse(z.record(z.string(), z.unknown()), "The diff"), 404: problemResponse("No such version") },
    }),
    (c) => {
      const user = optionalUser(c, db);
      const policy = getPolicyById(db, c.req.valid("param").id);
      const { from, to } = c.req.valid("query");
      const contentOf = (which: string): PolicyContent => {
        if (which !== "draft") return versionContent(getVersion(db, policy, Number(which)));
        const community = ownerCommunity(policy);
        if (!user || (!user.isAdmin && !memberRole(db, community, user))) {
          throw new ForbiddenError(`Only members of "${community.handle}" can diff against its draft.`);
        }
        return getDraft(policy);
      };
      return c.json({ from, to, ...diffContents(contentOf(from), contentOf(to)) } as unknown as Record<string, unknown>, 200);
    },
  );

  return app;
}
