/**
 * Proposals, votes and decision rules: each handler reads its input, calls
 * one use case (src/app/proposals.ts) and answers with its schema
 * (./schemas/participation.ts). Reads never close anything; the scheduled
 * job does (src/app/scheduler.ts).
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { castVote, createProposal, decisionRules, policyProposals, proposalDetails, remoteVotes, sendPartnerVote, setDecisionRules } from "../app/proposals.ts";
import { optionalUser, requireUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { IdParam, jsonBody, jsonResponse, problemResponse, security } from "./schemas.ts";
import { DecisionRulesInput, DecisionRulesView, NewProposalInput, ProposalView, RemoteVoteInput, SentVoteView, VoteInput } from "./schemas/participation.ts";

const HandleParam = z.object({ handle: z.string().openapi({ param: { name: "handle", in: "path" } }) });

const propose = createRoute({
  method: "post",
  path: "/policies/{id}/proposals",
  tags: ["proposals"],
  summary: "Propose a change set against the policy's newest version (members)",
  security,
  request: { params: IdParam, body: jsonBody(NewProposalInput) },
  responses: { 201: jsonResponse(ProposalView, "The proposal"), 409: problemResponse("Based on an older version, or does not apply") },
});

const listForPolicy = createRoute({
  method: "get",
  path: "/policies/{id}/proposals",
  tags: ["proposals"],
  summary: "A policy's proposals with their (provisional or final) tallies",
  request: { params: IdParam },
  responses: { 200: jsonResponse(z.array(ProposalView), "Proposals") },
});

const listRemoteVotes = createRoute({
  method: "get",
  path: "/proposals/remote-votes",
  tags: ["proposals"],
  summary: "Your votes on other instances' proposals, newest first: sent, or refused with the community's reason",
  security,
  request: { query: z.object({ proposal: z.string().url().optional() }) },
  responses: { 200: jsonResponse(z.array(SentVoteView), "Your votes sent elsewhere") },
});

const getOne = createRoute({
  method: "get",
  path: "/proposals/{id}",
  tags: ["proposals"],
  summary: "One proposal with its tally, the rule that decides it, and (signed in) your vote",
  request: { params: IdParam },
  responses: { 200: jsonResponse(ProposalView, "The proposal"), 404: problemResponse("No such proposal") },
});

const getRules = createRoute({
  method: "get",
  path: "/communities/{handle}/decision-rules",
  tags: ["proposals"],
  summary: "The community's decision rules: its overrides, the effective rule per authority level, adoption mode and partner instances",
  request: { params: HandleParam },
  responses: { 200: jsonResponse(DecisionRulesView, "The settings") },
});

const vote = createRoute({
  method: "post",
  path: "/proposals/{id}/vote",
  tags: ["proposals"],
  summary: "Vote yes, no, abstain or block (members); you can change your vote until it closes",
  security,
  request: { params: IdParam, body: jsonBody(VoteInput) },
  responses: { 200: jsonResponse(ProposalView, "The proposal after your vote"), 409: problemResponse("Voting closed"), 403: problemResponse("Not a member") },
});

const remoteVote = createRoute({
  method: "post",
  path: "/proposals/remote-vote",
  tags: ["proposals"],
  summary: "Vote on another instance's proposal, as a member of a partner instance (signed by your actor)",
  description: "The community answers a vote it does not count with a Reject and a reason; GET /proposals/remote-votes shows it.",
  security,
  request: { body: jsonBody(RemoteVoteInput) },
  responses: { 202: jsonResponse(SentVoteView, "Vote sent; the community counts it if this instance is its partner"), 502: problemResponse("The proposal could not be fetched") },
});

const putRules = createRoute({
  method: "put",
  path: "/communities/{handle}/decision-rules",
  tags: ["proposals"],
  summary: "Set the community's decision rules per authority level, and whether adopted proposals publish directly (stewards)",
  security,
  request: { params: HandleParam, body: jsonBody(DecisionRulesInput) },
  responses: { 200: jsonResponse(DecisionRulesView, "The settings"), 400: problemResponse("A rule that cannot be used") },
});

export function proposalRoutes(deps: ApiDeps) {
  const { db, context: ctx } = deps;
  const app = new OpenAPIHono();
  app.openapi(propose, async (c) => c.json(await createProposal(ctx, await requireUser(c, db), c.req.valid("param").id, c.req.valid("json")), 201));
  app.openapi(listForPolicy, async (c) => c.json(await policyProposals(ctx, c.req.valid("param").id), 200));
  // Before /proposals/{id}, which would otherwise take "remote-votes" for an id.
  app.openapi(listRemoteVotes, async (c) => c.json(await remoteVotes(ctx, await requireUser(c, db), c.req.valid("query").proposal), 200));
  app.openapi(getOne, async (c) => c.json(await proposalDetails(ctx, c.req.valid("param").id, await optionalUser(c, db)), 200));
  app.openapi(getRules, async (c) => c.json(await decisionRules(ctx, c.req.valid("param").handle), 200));
  app.openapi(vote, async (c) => c.json(await castVote(ctx, await requireUser(c, db), c.req.valid("param").id, c.req.valid("json").value), 200));
  app.openapi(remoteVote, async (c) => c.json(await sendPartnerVote(ctx, await requireUser(c, db), c.req.valid("json")), 202));
  app.openapi(putRules, async (c) => c.json(await setDecisionRules(ctx, await requireUser(c, db), c.req.valid("param").handle, c.req.valid("json")), 200));
  return app;
}
