/**
 * Forks and upstream merges. Forking a remote version fetches and verifies
 * it first; the fork is then stored, and only after that does the community
 * subscribe to the upstream policy and tell its community.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { assertSteward, getCommunity } from "../communities.ts";
import { FedalignError } from "../errors.ts";
import { forkVersion, listForks, mergeUpstream, MergeConflictsError, upstreamStatus } from "../policies/forks.ts";
import { resolutionsSchema } from "../policies/merge.ts";
import { findCommunityById } from "../communities.ts";
import { freeSlug, getPolicyById, slugFromTitle, slugSchema } from "../policies/policies.ts";
import { announceFork } from "../../federation/forks.ts";
import { afterCommit } from "../../federation/outgoing.ts";
import { fetchVerifiedVersion, RefusedVersion } from "../../federation/persist-policy.ts";
import { requireUser } from "./auth.ts";
import { fedContext, type ApiDeps } from "./deps.ts";
import { problem } from "./problem.ts";
import { jsonBody, jsonResponse, problemResponse, security, IdParam, Loose } from "./schemas.ts";

const ForkRequest = z
  .object({
    version: z.string().url().openapi({ description: "IRI of the version to fork (on any instance)" }),
    into: z.string().openapi({ description: "Handle of a community you steward" }),
    slug: slugSchema.optional().openapi({ description: "Last part of the fork's IRI (default: from the title)" }),
  })
  .strict()
  .openapi("ForkRequest");
const MergeRequest = z.object({ resolutions: resolutionsSchema.optional() }).strict().openapi("MergeRequest");

export function forkRoutes(deps: ApiDeps) {
  const { db, origin } = deps;
  const app = new OpenAPIHono();

  app.openapi(
    createRoute({
      method: "post",
      path: "/policies/fork",
      tags: ["forks"],
      summary: "Fork a policy version (local or remote) into a community you steward",
      security,
      request: { body: jsonBody(ForkRequest) },
      responses: {
        201: jsonResponse(Loose, "The fork"),
        400: problemResponse("The version cannot be forked"),
        502: problemResponse("The version could not be fetched or did not verify"),
      },
    }),
    async (c) => {
      const user = requireUser(c, db);
      const body = c.req.valid("json");
      const community = getCommunity(db, body.into);
      assertSteward(db, community, user);
      const ctx = fedContext(deps);
      let upstream;
      try {
        upstream = await fetchVerifiedVersion(ctx, body.version, null);
      } catch (error) {
        if (error instanceof RefusedVersion) throw new FedalignError(`Cannot fork ${body.version}: ${error.message}.`, 400);
        throw new FedalignError(`Cannot fetch ${body.version}: ${(error as Error).message}.`, 502);
      }
      const title = (upstream.document.normativeContent as { title?: string }).title ?? "fork";
      const slug = body.slug ?? freeSlug(db, community, slugFromTitle(title));
      const fork = forkVersion(db, { origin, community, upstream, slug });
      await afterCommit("announce a fork upstream", () => announceFork(ctx, fork, community));
      return c.json({ id: fork.id, iri: fork.iri, forkedFrom: { id: fork.forkedFromIri, contentHash: fork.forkedFromHash }, upstream: fork.upstreamIri }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/policies/{id}/upstream",
      tags: ["forks"],
      summary: "A fork's upstream: whether it has changes since the last merge, what they are, and what would conflict",
      request: { params: IdParam },
      responses: { 200: jsonResponse(Loose, "Upstream status"), 400: problemResponse("Not a fork") },
    }),
    (c) => c.json(upstreamStatus(db, getPolicyById(db, c.req.valid("param").id)) as unknown as Record<string, unknown>, 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/policies/{id}/merge",
      tags: ["forks"],
      summary: "Merge upstream's newest version into the fork's draft (stewards); conflicts need resolutions",
      security,
      request: { params: IdParam, body: jsonBody(MergeRequest) },
      responses: {
        200: jsonResponse(Loose, "Merged into the draft; publish to make it a version"),
        409: problemResponse("Conflicts need resolutions (listed in `conflicts`), or nothing to merge"),
      },
    }),
    (c) => {
      const user = requireUser(c, db);
      const fork = getPolicyById(db, c.req.valid("param").id);
      const community = fork.communityId !== null ? findCommunityById(db, fork.communityId) : undefined;
      if (!community) throw new FedalignError(`${fork.iri} is not a local policy.`, 400);
      assertSteward(db, community, user);
      try {
        const { policy, result } = mergeUpstream(db, fork, c.req.valid("json").resolutions);
        return c.json({ pendingMerge: policy.pendingMergeIri, clean: result.clean, resolved: result.conflicts.map((x) => x.key) }, 200);
      } catch (error) {
        if (error instanceof MergeConflictsError) {
          return problem(409, "Merge conflicts", error.message, { conflicts: error.result.conflicts, clean: error.result.clean }) as never;
        }
        throw error;
      }
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/policies/{id}/forks",
      tags: ["forks"],
      summary: "Forks of a policy that other communities announced",
      request: { params: IdParam },
      responses: { 200: jsonResponse(z.array(Loose), "Forks") },
    }),
    (c) =>
      c.json(
        listForks(db, getPolicyById(db, c.req.valid("param").id)).map((fork) => ({
          iri: fork.forkIri,
          community: fork.forkOwnerIri,
          forkedFrom: fork.forkedFromIri,
          receivedAt: fork.receivedAt.toISOString(),
        })),
        200,
      ),
  );

  return app;
}
