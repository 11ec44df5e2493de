/** Statements, their votes, Polis import/export, and the opinion landscape. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { assertSteward, findCommunityById, getCommunity, memberRole } from "../communities.ts";
import { ForbiddenError, NotFoundError } from "../errors.ts";
import { bridgingScores, opinionGroups, statementStats } from "../participation/opinions.ts";
import { exportStatements, getStatement, statementTallies, importStatements, listStatements, moderateStatement, opinionVotes, statementImportSchema, submitStatement, voteOnStatement } from "../participation/statements.ts";
import { optionalUser, requireUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody, jsonResponse, security, IdParam, Loose } from "./schemas.ts";

const VOTE = { agree: 1, disagree: -1, pass: 0 } as const;

export function statementRoutes(deps: ApiDeps) {
  const { db } = deps;
  const app = new OpenAPIHono();

  app.openapi(
    createRoute({
      method: "post",
      path: "/statements/import",
      tags: ["statements"],
      summary: "Import statements and votes (as read from a Polis export) into a community (stewards)",
      security,
      request: { body: jsonBody(statementImportSchema.extend({ community: z.string() })) },
      responses: { 200: jsonResponse(z.object({ statements: z.number(), votes: z.number() }), "What was imported") },
    }),
    (c) => {
      const { community: handle, ...data } = c.req.valid("json");
      const community = getCommunity(db, handle);
      assertSteward(db, community, requireUser(c, db));
      return c.json(importStatements(db, community, data), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/statements/export",
      tags: ["statements"],
      summary: "Statements and votes in Polis export shapes (members and stewards)",
      security,
      request: { query: z.object({ community: z.string() }) },
      responses: { 200: jsonResponse(Loose, "Statements and votes") },
    }),
    (c) => {
      const community = getCommunity(db, c.req.valid("query").community);
      const user = requireUser(c, db);
      if (!user.isAdmin && !memberRole(db, community, user)) throw new ForbiddenError(`Only members of "${community.handle}" can export its votes.`);
      return c.json(exportStatements(db, community) as unknown as Record<string, unknown>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/statements",
      tags: ["statements"],
      summary: "Submit a statement (members); stewards moderate it before it is voted on",
      security,
      request: { body: jsonBody(z.object({ community: z.string(), body: z.string().trim().min(1).max(1000), clauseId: z.string().optional() }).strict()) },
      responses: { 201: jsonResponse(Loose, "The statement") },
    }),
    (c) => {
      const body = c.req.valid("json");
      const statement = submitStatement(db, getCommunity(db, body.community), requireUser(c, db), body.body, body.clauseId);
      return c.json({ id: statement.id, body: statement.body, moderation: statement.moderation }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/statements",
      tags: ["statements"],
      summary: "A community's statements with vote counts and (for members) your vote; stewards also see those awaiting moderation",
      request: { query: z.object({ community: z.string() }) },
      responses: { 200: jsonResponse(z.array(Loose), "Statements") },
    }),
    (c) => {
      const community = getCommunity(db, c.req.valid("query").community);
      const user = optionalUser(c, db);
      const role = user ? memberRole(db, community, user) : undefined;
      const steward = role === "steward" || user?.isAdmin === true;
      const rows = statementTallies(db, community, role ? user : undefined);
      const visible = rows.filter((row) => row.moderation === "accepted" || steward);
      return c.json(
        visible.map((row) => ({
          id: row.id,
          statement: row.externalId ?? `f${row.id}`,
          body: row.body,
          author: row.author,
          clauseId: row.clauseId,
          moderation: row.moderation,
          agrees: row.agrees,
          disagrees: row.disagrees,
          passes: row.passes,
          ...(role ? { myVote: row.myVote === 1 ? "agree" : row.myVote === -1 ? "disagree" : row.myVote === 0 ? "pass" : null } : {}),
        })) as unknown as Record<string, unknown>[],
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/statements/{id}/moderate",
      tags: ["statements"],
      summary: "Accept or reject a submitted statement (stewards)",
      security,
      request: { params: IdParam, body: jsonBody(z.object({ decision: z.enum(["accepted", "rejected"]) }).strict()) },
      responses: { 200: jsonResponse(Loose, "The statement") },
    }),
    (c) => {
      const statement = getStatement(db, c.req.valid("param").id);
      const community = communityOf(statement.communityId);
      assertSteward(db, community, requireUser(c, db));
      const updated = moderateStatement(db, statement, c.req.valid("json").decision);
      return c.json({ id: updated.id, moderation: updated.moderation }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/statements/{id}/vote",
      tags: ["statements"],
      summary: "Agree, disagree or pass on a statement (members); you can change your vote",
      security,
      request: { params: IdParam, body: jsonBody(z.object({ value: z.enum(["agree", "disagree", "pass"]) }).strict()) },
      responses: { 200: jsonResponse(Loose, "Recorded") },
    }),
    (c) => {
      const statement = getStatement(db, c.req.valid("param").id);
      const community = communityOf(statement.communityId);
      voteOnStatement(db, community, statement, requireUser(c, db), VOTE[c.req.valid("json").value]);
      return c.json({ id: statement.id, recorded: c.req.valid("json").value }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/opinions",
      tags: ["statements"],
      summary: "Opinion groups (PCA + k-means, k by silhouette), per-group support, group-informed consensus and bridging scores",
      request: { query: z.object({ community: z.string(), seed: z.coerce.number().int().optional() }) },
      responses: { 200: jsonResponse(Loose, "The opinion landscape") },
    }),
    (c) => {
      const query = c.req.valid("query");
      const community = getCommunity(db, query.community);
      const votes = opinionVotes(db, community);
      const bodies = new Map(listStatements(db, community).map((s) => [String(s.id), { body: s.body, externalId: s.externalId }]));
      if (votes.length === 0) return c.json({ participants: 0, groups: [], projection: [], statements: [], consensus: [], bridging: [] }, 200);
      const groups = opinionGroups(votes, { seed: query.seed ?? 42 });
      const stats = statementStats(votes, groups.groups);
      const bridging = bridgingScores(votes, { seed: query.seed ?? 42 });
      const label = (id: string) => ({ statement: bodies.get(id)?.externalId ?? id, body: bodies.get(id)?.body ?? "" });
      const round = (x: number) => Number(x.toFixed(4));
      return c.json(
        {
          participants: groups.projection.length,
          k: groups.k,
          silhouettes: groups.silhouettes,
          /** "silhouette", or "stability" with the best k of each leave-one-fold-out run when k was a close call. */
          kSelection: groups.kSelection,
          groups: groups.groups.map((g) => ({ id: g.id, size: g.members.length })),
          excluded: groups.excluded,
          /** Each clustered participant on the first two principal components, with their group. */
          projection: groups.projection.map((p) => ({ participant: p.participant, x: round(p.x), y: round(p.y), group: p.group })),
          /** Each statement's support per group. */
          statements: stats.statements.map((s) => ({ ...label(s.statement), id: Number(s.statement), consensus: s.consensus, groups: s.groups })),
          consensus: stats.consensus.map((s) => ({ ...s, ...label(s.statement) })),
          bridging: [...bridging.statements].sort((x, y) => y.intercept - x.intercept).map((s) => ({ ...s, ...label(s.statement) })),
        } as unknown as Record<string, unknown>,
        200,
      );
    },
  );

  function communityOf(id: number) {
    const community = findCommunityById(db, id);
    if (!community) throw new NotFoundError("The community of this statement no longer exists.");
    return community;
  }

  return app;
}
