/** Statements, their votes, Polis import/export, and the opinion landscape (src/app/statements.ts). */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { communityConversations, communityStatements, exportStatements, importStatements, moderateStatement, opinions, submitStatement, voteOnStatementAs } from "../app/statements.ts";
import { optionalUser, requireUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { IdParam, jsonBody, jsonResponse, security } from "./schemas.ts";
import {
  ConversationView,
  ImportResult,
  ModeratedStatement,
  ModerationInput,
  NewStatementInput,
  OpinionsView,
  RecordedStatementVote,
  ScopeQuery,
  StatementExport,
  StatementImportInput,
  StatementView,
  StatementVoteInput,
  SubmittedStatement,
} from "./schemas/participation.ts";

const importRoute = createRoute({
  method: "post",
  path: "/statements/import",
  tags: ["statements"],
  summary: "Import a Polis conversation (as read from its export) into a conversation of the community: a new one, or the named one (stewards)",
  security,
  request: { body: jsonBody(StatementImportInput) },
  responses: { 200: jsonResponse(ImportResult, "What was imported") },
});

const conversations = createRoute({
  method: "get",
  path: "/conversations",
  tags: ["statements"],
  summary: "A community's conversations",
  request: { query: z.object({ community: z.string() }) },
  responses: { 200: jsonResponse(z.array(ConversationView), "Conversations") },
});

const exportRoute = createRoute({
  method: "get",
  path: "/statements/export",
  tags: ["statements"],
  summary: "A conversation's statements, votes, participants and summary in Polis export shapes; across=true gives every conversation (members and stewards)",
  security,
  request: { query: ScopeQuery },
  responses: { 200: jsonResponse(StatementExport, "One conversation, or { conversations: [...] } with across=true") },
});

const submit = createRoute({
  method: "post",
  path: "/statements",
  tags: ["statements"],
  summary: "Submit a statement (members); stewards moderate it before it is voted on",
  security,
  request: { body: jsonBody(NewStatementInput) },
  responses: { 201: jsonResponse(SubmittedStatement, "The statement") },
});

const list = createRoute({
  method: "get",
  path: "/statements",
  tags: ["statements"],
  summary: "A community's statements (of one conversation, or of all with across=true) with vote counts and (for members) your vote; stewards also see those awaiting moderation",
  request: { query: ScopeQuery },
  responses: { 200: jsonResponse(z.array(StatementView), "Statements") },
});

const moderate = createRoute({
  method: "post",
  path: "/statements/{id}/moderate",
  tags: ["statements"],
  summary: "Accept or reject a submitted statement (stewards)",
  security,
  request: { params: IdParam, body: jsonBody(ModerationInput) },
  responses: { 200: jsonResponse(ModeratedStatement, "The statement") },
});

const vote = createRoute({
  method: "post",
  path: "/statements/{id}/vote",
  tags: ["statements"],
  summary: "Agree, disagree or pass on a statement (members); you can change your vote",
  security,
  request: { params: IdParam, body: jsonBody(StatementVoteInput) },
  responses: { 200: jsonResponse(RecordedStatementVote, "Recorded") },
});

const opinionsRoute = createRoute({
  method: "get",
  path: "/opinions",
  tags: ["statements"],
  summary:
    "Opinion groups (as Polis: PCA, base clusters, groups by k-means, k by silhouette), per-group support, group-informed consensus and bridging scores, of one conversation or (across=true) of the whole community",
  request: { query: ScopeQuery.extend({ seed: z.coerce.number().int().optional() }) },
  responses: { 200: jsonResponse(OpinionsView, "The opinion landscape") },
});

export function statementRoutes(deps: ApiDeps) {
  const { db, context: ctx } = deps;
  const app = new OpenAPIHono();
  app.openapi(importRoute, async (c) => c.json(await importStatements(ctx, await requireUser(c, db), c.req.valid("json")), 200));
  app.openapi(conversations, async (c) => c.json(await communityConversations(ctx, c.req.valid("query").community), 200));
  app.openapi(exportRoute, async (c) => c.json(await exportStatements(ctx, await requireUser(c, db), c.req.valid("query")), 200));
  app.openapi(submit, async (c) => c.json(await submitStatement(ctx, await requireUser(c, db), c.req.valid("json")), 201));
  app.openapi(list, async (c) => c.json(await communityStatements(ctx, await optionalUser(c, db), c.req.valid("query")), 200));
  app.openapi(moderate, async (c) => c.json(await moderateStatement(ctx, await requireUser(c, db), c.req.valid("param").id, c.req.valid("json").decision), 200));
  app.openapi(vote, async (c) => c.json(await voteOnStatementAs(ctx, await requireUser(c, db), c.req.valid("param").id, c.req.valid("json").value), 200));
  app.openapi(opinionsRoute, async (c) => c.json(await opinions(ctx, c.req.valid("query")), 200));
  return app;
}
