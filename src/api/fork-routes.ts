/**
 * Forks and upstream merges. Each handler calls one use case
 * (src/app/forks.ts): forking fetches and verifies the version first, then
 * stores the fork with its announcement upstream in one transaction.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { announcedForks, forkPolicyVersion, forkUpstream, mergeUpstreamIntoFork } from "../app/forks.ts";
import { MergeConflictsError } from "../policies/forks.ts";
import { requireUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { problem } from "../problem.ts";
import { jsonBody, jsonResponse, problemResponse, security, IdParam } from "./schemas.ts";
import { AnnouncedFork, ForkRequest, ForkView, MergeConflictProblem, MergeOutcome, MergeRequest, UpstreamStatusView } from "./schemas/forks.ts";

const tags = ["forks"];

const forkRoute = createRoute({
  method: "post",
  path: "/policies/fork",
  tags,
  summary: "Fork a policy version (local or remote) into a community you steward",
  security,
  request: { body: jsonBody(ForkRequest) },
  responses: {
    201: jsonResponse(ForkView, "The fork"),
    400: problemResponse("The version cannot be forked"),
    502: problemResponse("The version could not be fetched or did not verify"),
  },
});

const upstreamRoute = createRoute({
  method: "get",
  path: "/policies/{id}/upstream",
  tags,
  summary: "A fork's upstream: whether it has changes since the last merge, what they are, and what would conflict",
  request: { params: IdParam },
  responses: { 200: jsonResponse(UpstreamStatusView, "Upstream status"), 400: problemResponse("Not a fork") },
});

const mergeRoute = createRoute({
  method: "post",
  path: "/policies/{id}/merge",
  tags,
  summary: "Merge upstream's newest version into the fork's draft (stewards); conflicts need resolutions",
  security,
  request: { params: IdParam, body: jsonBody(MergeRequest) },
  responses: {
    200: jsonResponse(MergeOutcome, "Merged into the draft; publish to make it a version"),
    409: {
      content: { "application/problem+json": { schema: MergeConflictProblem } },
      description: "Conflicts need resolutions (listed in `conflicts`), or nothing to merge",
    },
  },
});

const forksRoute = createRoute({
  method: "get",
  path: "/policies/{id}/forks",
  tags,
  summary: "Forks of a policy that other communities announced",
  request: { params: IdParam },
  responses: { 200: jsonResponse(z.array(AnnouncedFork), "Forks") },
});

export function forkRoutes(deps: ApiDeps) {
  const { db, context } = deps;
  return new OpenAPIHono()
    .openapi(forkRoute, async (c) => {
      const fork = await forkPolicyVersion(context, await requireUser(c, db), c.req.valid("json"));
      const forkedFrom = { id: fork.forkedFromIri, contentHash: fork.forkedFromHash };
      return c.json({ id: fork.id, iri: fork.iri, forkedFrom, upstream: fork.upstreamIri }, 201);
    })
    .openapi(upstreamRoute, async (c) => c.json(await forkUpstream(context, c.req.valid("param").id), 200))
    .openapi(mergeRoute, async (c) => {
      try {
        const { policy, result } = await mergeUpstreamIntoFork(context, await requireUser(c, db), c.req.valid("param").id, c.req.valid("json").resolutions);
        return c.json({ pendingMerge: policy.pendingMergeIri, clean: result.clean, resolved: result.conflicts.map((x) => x.key) }, 200);
      } catch (error) {
        if (!(error instanceof MergeConflictsError)) throw error;
        return problem(409, "Merge conflicts", error.message, { conflicts: error.result.conflicts, clean: error.result.clean }) as never;
      }
    })
    .openapi(forksRoute, async (c) => {
      const forks = (await announcedForks(context, c.req.valid("param").id)).map((fork) => ({
        iri: fork.forkIri,
        community: fork.forkOwnerIri,
        forkedFrom: fork.forkedFromIri,
        receivedAt: fork.receivedAt.toISOString(),
      }));
      return c.json(forks, 200);
    });
}
