/** Statements, their votes, Polis import/export, and the opinion landscape. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { assertSteward, findCommunityById, getCommunity, memberRole } from "../communities.ts";
import { ForbiddenError, NotFoundError } from "../errors.ts";
import { conversationImportSchema, conversationName, exportConversation, importConversation, listConversations, opinionInput, resolveScope } from "../participation/conversations.ts";
import { bridgingScores, opinionGroups, statementStats } from "../participation/opinions.ts";
import { getStatement, statementTallies, listStatements, moderateStatement, submitStatement, voteOnStatement } from "../participation/statements.ts";
import { optionalUser, requireUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody, jsonResponse, security, IdParam, Loose } from "./schemas.ts";

const VOTE = { agree: 1, disagree: -1, pass: 0 } as const;

/** One conversation by name, or every conversation of the community with across=true. */
const ScopeQuery = z.object({
  community: z.string(),
  conversation: conversationName.optional(),
  across: z.enum(["true", "false"]).optional().transform((v) => v === "true"),
});

export function statementRoutes(deps: ApiDeps) {
  const { db } = deps;
  const app = new OpenAPIHono();

  app.openapi(
    createRoute({
      method: "post",
      path: "/statements/import",
      tags: ["statements"],
      summary: "Import a Polis conversation (as read from its export) into a conversation of the community: a new one, or the named one (stewards)",
      security,
      request: { body: jsonBody(conversationImportSchema) },
      responses: { 200: jsonResponse(z.object({ conversation: z.string(), created: z.boolean(), statements: z.number(), votes: z.number(), participants: z.number() }), "What was imported") },
    }),
    (c) => {
      const data = c.req.valid("json");
      const community = getCommunity(db, data.community);
      assertSteward(db, community, requireUser(c, db));
      return c.json(importConversation(db, community, data), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/conversations",
      tags: ["statements"],
      summary: "A community's conversations",
      request: { query: z.object({ community: z.string() }) },
      responses: { 200: jsonResponse(z.array(Loose), "Conversations") },
    }),
    (c) => {
      const community = getCommunity(db, c.req.valid("query").community);
      const rows = listConversations(db, community).map((x) => ({ name: x.name, source: x.source, topic: x.topic, url: x.url, description: x.description }));
      return c.json(rows as unknown as Record<string, unknown>[], 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/statements/export",
      tags: ["statements"],
      summary: "A conversation's statements, votes, participants and summary in Polis export shapes; across=true gives every conversation (members and stewards)",
      security,
      request: { query: ScopeQuery },
      responses: { 200: jsonResponse(Loose, "One conversation, or { conversations: [...] } with across=true") },
    }),
    (c) => {
      const query = c.req.valid("query");
      const community = getCommunity(db, query.community);
      const user = requireUser(c, db);
      if (!user.isAdmin && !memberRole(db, community, user)) throw new ForbiddenError(`Only members of "${community.handle}" can export its votes.`);
      const scope = resolveScope(db, community, query);
      const exports = scope.map((x) => exportConversation(db, x));
      if (query.across) return c.json({ conversations: exports } as unknown as Record<string, unknown>, 200);
      if (exports.length === 0) throw new NotFoundError(`"${community.handle}" has no statements yet.`);
      return c.json(exports[0] as unknown as Record<string, unknown>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/statements",
      tags: ["statements"],
      summary: "Submit a statement (members); stewards moderate it before it is voted on",
      security,
      request: { body: jsonBody(z.object({ community: z.string(), body: z.string().trim().min(1).max(1000), clauseId: z.string().optional(), conversation: conversationName.optional() }).strict()) },
      responses: { 201: jsonResponse(Loose, "The statement") },
    }),
    (c) => {
      const body = c.req.valid("json");
      const statement = submitStatement(db, getCommunity(db, body.community), requireUser(c, db), body.body, body.clauseId, body.conversation);
      return c.json({ id: statement.id, body: statement.body, moderation: statement.moderation }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/statements",
      tags: ["statements"],
      summary: "A community's statements (of one conversation, or of all with across=true) with vote counts and (for members) your vote; stewards also see those awaiting moderation",
      request: { query: ScopeQuery },
      responses: { 200: jsonResponse(z.array(Loose), "Statements") },
    }),
    (c) => {
      const query = c.req.valid("query");
      const community = getCommunity(db, query.community);
      const user = optionalUser(c, db);
      const role = user ? memberRole(db, community, user) : undefined;
      const steward = role === "steward" || user?.isAdmin === true;
      const scope = resolveScope(db, community, query);
      const names = new Map(scope.map((x) => [x.id, x.name]));
      const rows = statementTallies(db, community, [...names.keys()], role ? user : undefined);
      const visible = rows.filter((row) => row.moderation === "accepted" || steward);
      return c.json(
        visible.map((row) => ({
          id: row.id,
          statement: row.externalId ?? `f${row.id}`,
          conversation: names.get(row.conversationId!),
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
      summary: "Opinion groups (as Polis: PCA, base clusters, groups by k-means, k by silhouette), per-group support, group-informed consensus and bridging scores, of one conversation or (across=true) of the whole community",
      request: { query: ScopeQuery.extend({ seed: z.coerce.number().int().optional() }) },
      responses: { 200: jsonResponse(Loose, "The opinion landscape") },
    }),
    (c) => {
      const query = c.req.valid("query");
      const community = getCommunity(db, query.community);
      const scope = resolveScope(db, community, query);
      const { votes, moderatedOut } = opinionInput(db, scope);
      const conversations = scope.map((x) => x.name);
      const hidden = new Set(moderatedOut);
      const shown = votes.filter((v) => !hidden.has(v.statement));
      if (shown.length === 0) return c.json({ conversations, participants: 0, groups: [], projection: [], statements: [], consensus: [], bridging: [] }, 200);
      const labels = new Map(listStatements(db, scope.map((x) => x.id)).map((s) => [String(s.id), { statement: s.externalId ?? `f${s.id}`, body: s.body, conversation: scope.find((x) => x.id === s.conversationId)?.name }]));
      const groups = opinionGroups(votes, { seed: query.seed ?? 42, moderatedOut });
      const stats = statementStats(shown, groups.groups);
      const bridging = bridgingScores(shown, { seed: query.seed ?? 42 });
      const label = (id: string) => labels.get(id) ?? { statement: id, body: "", conversation: undefined };
      const round = (x: number) => Number(x.toFixed(4));
      return c.json(
        {
          conversations,
          participants: groups.projection.length,
          k: groups.k,
          silhouettes: groups.silhouettes,
          /** "silhouette", or "stability" with the best k of each leave-one-fold-out run when k was a close call. */
          kSelection: groups.kSelection,
          baseClusters: groups.baseClusters,
          /** What this snapshot cannot reproduce of Polis' history-dependent computation. */
          snapshotLimits: groups.snapshotLimits,
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
