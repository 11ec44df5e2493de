/**
 * ActivityPub documents of policies, served by their IRIs to clients that
 * ask for `application/activity+json` or `application/ld+json` (any
 * profile); browsers fall through to the HTML pages of src/web. Version
 * documents are served exactly as signed; a retracted version is a
 * `Tombstone` with status 410.
 */
import { Hono, type Context } from "hono";
import type { Db } from "../db/client.ts";
import { findCommunity, findCommunityById, type Community } from "../src/communities.ts";
import { communityPoliciesIri, versionsIri } from "../src/policies/iris.ts";
import {
  countPublished,
  findLocalPolicy,
  findVersion,
  headVersion,
  listCommunityPolicies,
  listPublished,
  listVersions,
  versionContent,
  type Policy,
} from "../src/policies/policies.ts";
import { versionCreate } from "./policy-activities.ts";
import { DOCUMENT_CONTEXT } from "../src/policies/version-document.ts";
import { listForks } from "../src/policies/forks.ts";
import { findOffer } from "../src/policies/offers.ts";
import { offerDocument } from "./offers.ts";
import { pollResults, proposalDocument } from "./proposals.ts";
import { findProposal } from "../src/participation/proposals.ts";
import type { FedCtx } from "./context.ts";
import { datasetCollection, datasetPageJson } from "./preference-datasets.ts";
import { clauseIri } from "./annotations.ts";
import { findAnnotation, listAnnotations } from "../src/policies/annotations.ts";
import { renderMarkdown } from "../src/policies/render.ts";

const AP_TYPES = ["application/activity+json", "application/ld+json"];
const OUTBOX_PAGE = 20;

/** An item embedded in a page shares the page's context. */
function withoutContext(item: Record<string, unknown>): Record<string, unknown> {
  const { "@context": _context, ...rest } = item;
  return rest;
}

export function wantsActivityJson(c: Context): boolean {
  const accept = c.req.header("accept") ?? "";
  return AP_TYPES.some((type) => accept.includes(type));
}

function activityJson(c: Context, body: unknown, status: 200 | 410 = 200): Response {
  return c.body(JSON.stringify(body), status, { "Content-Type": "application/activity+json", Vary: "Accept" });
}

export async function policyDocument(db: Db, policy: Policy): Promise<Record<string, unknown>> {
  const head = await headVersion(db, policy);
  return {
    "@context": DOCUMENT_CONTEXT,
    id: policy.iri,
    type: ["Document", "Policy"],
    attributedTo: policy.ownerIri,
    name: policy.title,
    url: policy.iri,
    published: policy.createdAt.toISOString(),
    ...(head ? { updated: head.publishedAt.toISOString(), headVersion: head.iri } : {}),
    licence: policy.licence,
    versions: versionsIri(policy.iri),
    outbox: `${policy.iri}/outbox`,
    forks: `${policy.iri}/forks`,
    ...(policy.forkedFromIri ? { forkedFrom: { id: policy.forkedFromIri, contentHash: policy.forkedFromHash }, upstream: policy.upstreamIri } : {}),
  };
}

export function createPolicyDocuments(db: Db, origin: string, fedContext: () => FedCtx) {
  const app = new Hono<{ Variables: { community: Community; policy: Policy } }>();

  // Only answer ActivityPub clients, and only for local communities and policies.
  app.use("/actors/:handle/policies/*", async (c, next) => {
    if (!wantsActivityJson(c)) return next();
    const community = await findCommunity(db, c.req.param("handle"));
    if (!community) return next();
    c.set("community", community);
    const slug = c.req.path.split("/")[4];
    if (slug) {
      const policy = await findLocalPolicy(db, community, slug);
      if (!policy) return next();
      c.set("policy", policy);
    }
    return next();
  });

  app.get("/actors/:handle/policies", async (c, next) => {
    const community = wantsActivityJson(c) ? await findCommunity(db, c.req.param("handle")) : undefined;
    if (!community) return next();
    const items = (await listCommunityPolicies(db, community)).map((policy) => policy.iri);
    return activityJson(c, {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: communityPoliciesIri(new URL(c.req.url).origin, community.handle),
      type: "OrderedCollection",
      totalItems: items.length,
      orderedItems: items,
    });
  });

  app.get("/actors/:handle/policies/:slug", async (c, next) => {
    const policy = c.get("policy");
    return policy ? activityJson(c, await policyDocument(db, policy)) : next();
  });

  app.get("/actors/:handle/policies/:slug/forks", async (c, next) => {
    const policy = c.get("policy");
    if (!policy) return next();
    const items = (await listForks(db, policy)).map((fork) => fork.forkIri);
    return activityJson(c, {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${policy.iri}/forks`,
      type: "OrderedCollection",
      totalItems: items.length,
      orderedItems: items,
    });
  });

  app.get("/actors/:handle/policies/:slug/offers/:uuid", async (c, next) => {
    const policy = c.get("policy");
    const offer = policy ? await findOffer(db, `${policy.iri}/offers/${c.req.param("uuid")}`) : undefined;
    return offer && offer.direction === "outgoing" ? activityJson(c, offerDocument(offer)) : next();
  });

  // A clause of a version: what annotations reply to.
  app.get("/actors/:handle/policies/:slug/versions/:number{[0-9]+}/clauses/:clauseId", async (c, next) => {
    const policy = c.get("policy");
    const version = policy ? await findVersion(db, policy, Number(c.req.param("number"))) : undefined;
    const clause = version && !version.retractedAt ? versionContent(version).clauses.find((x) => x.id === c.req.param("clauseId")) : undefined;
    if (!policy || !version || !clause) return next();
    return activityJson(c, {
      "@context": DOCUMENT_CONTEXT,
      id: clauseIri(version.iri, clause.id),
      type: "Article",
      attributedTo: policy.ownerIri,
      name: clause.title || clause.id,
      content: renderMarkdown(clause.text, { federated: true }),
      url: clauseIri(version.iri, clause.id),
      context: version.iri,
      policy: policy.iri,
      replies: `${policy.iri}/clauses/${encodeURIComponent(clause.id)}/annotations`,
    });
  });

  // Annotations of a clause, across versions (they stay with the clause id).
  app.get("/actors/:handle/policies/:slug/clauses/:clauseId/annotations", async (c, next) => {
    const policy = c.get("policy");
    if (!policy) return next();
    const items = (await listAnnotations(db, { policyIri: policy.iri, clauseId: decodeURIComponent(c.req.param("clauseId")) })).map((a) => a.iri);
    return activityJson(c, {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${policy.iri}/clauses/${c.req.param("clauseId")}/annotations`,
      type: "OrderedCollection",
      totalItems: items.length,
      orderedItems: items,
    });
  });

  // The policy's preference dataset: records whose raters allow federation, paged and signed.
  app.get("/actors/:handle/policies/:slug/preferences", async (c, next) => {
    const policy = c.get("policy");
    if (!policy) return next();
    const after = c.req.query("after");
    if (after === undefined) return activityJson(c, await datasetCollection(fedContext(), policy));
    const afterId = Number(after);
    const json = Number.isInteger(afterId) && afterId >= 0 ? await datasetPageJson(fedContext(), policy, afterId) : undefined;
    return json ? c.body(json, 200, { "Content-Type": "application/activity+json", Vary: "Accept" }) : next();
  });

  app.get("/actors/:handle/policies/:slug/proposals/:id{[0-9]+}", async (c, next) => {
    const policy = c.get("policy");
    const proposal = policy ? await findProposal(db, Number(c.req.param("id"))) : undefined;
    const community = policy?.communityId != null ? await findCommunityById(db, policy.communityId) : undefined;
    if (!policy || !proposal || proposal.policyId !== policy.id || !community) return next();
    return activityJson(c, proposalDocument(policy, proposal, await pollResults(db, proposal, community, fedContext().data.clock.now())));
  });

  // The policy's own outbox: the Create of each version, newest first, paged.
  app.get("/actors/:handle/policies/:slug/outbox", async (c, next) => {
    const policy = c.get("policy");
    if (!policy) return next();
    const id = `${policy.iri}/outbox`;
    const pageParam = c.req.query("page");
    if (pageParam === undefined) {
      return activityJson(c, {
        "@context": "https://www.w3.org/ns/activitystreams",
        id,
        type: "OrderedCollection",
        totalItems: await countPublished(db, { policyId: policy.id }),
        first: `${id}?page=0`,
      });
    }
    const page = Number(pageParam);
    if (!Number.isSafeInteger(page) || page < 0) return next();
    const rows = await listPublished(db, { policyId: policy.id }, { offset: page * OUTBOX_PAGE, limit: OUTBOX_PAGE + 1 });
    const ctx = fedContext();
    const items = await Promise.all(rows.slice(0, OUTBOX_PAGE).map((row) => versionCreate(ctx, row.policy, row.version).toJsonLd({ contextLoader: ctx.contextLoader })));
    return activityJson(c, {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${id}?page=${page}`,
      type: "OrderedCollectionPage",
      partOf: id,
      orderedItems: items.map((item) => withoutContext(item as Record<string, unknown>)),
      ...(rows.length > OUTBOX_PAGE ? { next: `${id}?page=${page + 1}` } : {}),
    });
  });

  app.get("/actors/:handle/policies/:slug/versions", async (c, next) => {
    const policy = c.get("policy");
    if (!policy) return next();
    const items = (await listVersions(db, policy)).filter((v) => !v.retractedAt).map((v) => v.iri);
    return activityJson(c, {
      "@context": "https://www.w3.org/ns/activitystreams",
      id: versionsIri(policy.iri),
      type: "OrderedCollection",
      totalItems: items.length,
      orderedItems: items,
    });
  });

  app.get("/actors/:handle/policies/:slug/versions/:number{[0-9]+}", async (c, next) => {
    const policy = c.get("policy");
    const version = policy ? await findVersion(db, policy, Number(c.req.param("number"))) : undefined;
    if (!version) return next();
    if (version.retractedAt) {
      return activityJson(
        c,
        {
          "@context": "https://www.w3.org/ns/activitystreams",
          id: version.iri,
          type: "Tombstone",
          formerType: "Article",
          deleted: version.retractedAt.toISOString(),
        },
        410,
      );
    }
    return activityJson(c, version.document);
  });

  // Notes of annotations written here.
  app.get("/annotations/:uuid", async (c, next) => {
    if (!wantsActivityJson(c)) return next();
    const annotation = await findAnnotation(db, new URL(`/annotations/${c.req.param("uuid")}`, origin).href);
    return annotation?.local ? activityJson(c, annotation.note) : next();
  });

  return app;
}
