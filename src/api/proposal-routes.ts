/**
 * Proposals and votes. Closing is checked whenever a policy's proposals are
 * read or voted on (no scheduler needed); an adopted proposal changes the
 * draft, or publishes a version at once when the community chose that.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { communities } from "../../db/schema.ts";
import { assertSteward, findCommunityById, getCommunity, type Community } from "../communities.ts";
import { FedalignError, InvalidInputError, NotFoundError } from "../errors.ts";
import { communityRulesSchema, describeTally, rulesFor, VOTE_VALUES } from "../participation/decision.ts";
import { castVote, closeDueProposals, communityRules, myVote, createProposal, currentTally, findProposal, listProposals, proposalChanges, recordResultVersion, type Proposal } from "../participation/proposals.ts";
import { describeChangeSet } from "../policies/changeset.ts";
import { AUTHORITY_LEVELS } from "../policies/content.ts";
import type { User } from "../accounts/users.ts";
import { getPolicyById, type Policy } from "../policies/policies.ts";
import { publishDraft } from "../policies/publish.ts";
import { listSentVotes, type SentVote } from "../participation/sent-votes.ts";
import { actorIri } from "./views.ts";
import { afterCommit } from "../../federation/outgoing.ts";
import { sendVersionPublished } from "../../federation/policy-activities.ts";
import { communitySigner } from "../../federation/policy-signing.ts";
import { proposalIri, sendPartnerVote, sendProposal } from "../../federation/proposals.ts";
import { optionalUser, requireUser } from "./auth.ts";
import { fedContext, type ApiDeps } from "./deps.ts";
import { jsonBody, jsonResponse, problemResponse, security, IdParam, Loose } from "./schemas.ts";

const NewProposal = z
  .object({
    title: z.string().trim().min(1, "must not be empty").max(300),
    summary: z.string().max(5000).optional(),
    changes: Loose.openapi({ description: "A change set against the newest version (see `fedalign policy` and src/policies/changeset.ts)" }),
    closesAt: z.string().datetime({ offset: true }).optional(),
  })
  .strict()
  .openapi("NewProposal");

export function proposalRoutes(deps: ApiDeps) {
  const { db } = deps;
  const app = new OpenAPIHono();

  const communityOf = (policy: Policy): Community => {
    const community = policy.communityId !== null ? findCommunityById(db, policy.communityId) : undefined;
    if (!community) throw new InvalidInputError(`${policy.iri} belongs to another instance; propose changes there (or offer them from a fork).`);
    return community;
  };

  /** Closes what is due, federates the outcome, and publishes when the community adopts directly. */
  const settle = async (policy: Policy, community: Community) => {
    const closed = closeDueProposals(db, policy, community, (p) => proposalIri(policy, p));
    if (closed.length === 0) return;
    const ctx = fedContext(deps);
    for (const { proposal, publish } of closed) {
      if (publish) {
        const version = await publishDraft(db, {
          policy: getPolicyById(db, policy.id),
          message: `Adopted proposal ${proposal.id}: ${proposal.title}`,
          ownerFollowersIri: ctx.getFollowersUri(community.handle).href,
          sign: communitySigner(ctx, community.handle),
          decisions: publish,
        });
        recordResultVersion(db, proposal, version.iri);
        await afterCommit("send an adopted version", () => sendVersionPublished(ctx, getPolicyById(db, policy.id), version));
      }
      await afterCommit("federate a closed proposal", () => sendProposal(ctx, policy, community, findProposal(db, proposal.id)!, "update"));
    }
  };

  const view = (policy: Policy, community: Community, proposal: Proposal, user?: User) => {
    const tally = currentTally(db, proposal, community);
    return {
      id: proposal.id,
      iri: proposalIri(policy, proposal),
      policy: policy.iri,
      policyId: policy.id,
      community: community.handle,
      title: proposal.title,
      summary: proposal.summary,
      changes: describeChangeSet(proposalChanges(proposal)),
      level: proposal.level,
      baseVersion: proposal.baseVersionIri,
      openedAt: proposal.openedAt.toISOString(),
      closesAt: proposal.closesAt.toISOString(),
      state: proposal.state,
      tally: proposal.tally ?? { state: tally.state, reason: tally.reason, counts: tally.counts, voters: tally.voters, members: tally.members },
      description: describeTally(tally),
      resultVersion: proposal.resultVersionIri,
      /** The rule that decides it (the strictest level touched, with the community's overrides). */
      rule: { level: proposal.level, ...tally.rule, quorumNeeded: tally.quorumNeeded, threshold: tally.threshold },
      /** When voting actually closes: the later of closesAt and the minimum open time. */
      effectiveClosesAt: tally.closesAt.toISOString(),
      ...(user ? { myVote: myVote(db, proposal, user) ?? null } : {}),
    };
  };

  app.openapi(
    createRoute({
      method: "post",
      path: "/policies/{id}/proposals",
      tags: ["proposals"],
      summary: "Propose a change set against the policy's newest version (members)",
      security,
      request: { params: IdParam, body: jsonBody(NewProposal) },
      responses: { 201: jsonResponse(Loose, "The proposal"), 409: problemResponse("Based on an older version, or does not apply") },
    }),
    async (c) => {
      const user = requireUser(c, db);
      const policy = getPolicyById(db, c.req.valid("param").id);
      const community = communityOf(policy);
      const body = c.req.valid("json");
      const proposal = createProposal(db, {
        policy,
        community,
        author: user,
        title: body.title,
        summary: body.summary,
        changes: body.changes,
        closesAt: body.closesAt ? new Date(body.closesAt) : undefined,
      });
      const ctx = fedContext(deps);
      await afterCommit("federate a proposal", () => sendProposal(ctx, policy, community, proposal, "create"));
      return c.json(view(policy, community, proposal), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/policies/{id}/proposals",
      tags: ["proposals"],
      summary: "A policy's proposals with their (provisional or final) tallies",
      request: { params: IdParam },
      responses: { 200: jsonResponse(z.array(Loose), "Proposals") },
    }),
    async (c) => {
      const policy = getPolicyById(db, c.req.valid("param").id);
      const community = communityOf(policy);
      await settle(policy, community);
      return c.json(listProposals(db, policy).map((p) => view(policy, community, p)), 200);
    },
  );

  const sentVoteView = (vote: SentVote) => ({
    proposal: vote.proposalIri,
    value: vote.value,
    state: vote.state,
    reason: vote.reason,
    sentAt: vote.sentAt.toISOString(),
    answeredAt: vote.answeredAt?.toISOString() ?? null,
  });

  // Before /proposals/{id}, which would otherwise take "remote-votes" for an id.
  app.openapi(
    createRoute({
      method: "get",
      path: "/proposals/remote-votes",
      tags: ["proposals"],
      summary: "Your votes on other instances' proposals, newest first: sent, or refused with the community's reason",
      security,
      request: { query: z.object({ proposal: z.string().url().optional() }) },
      responses: { 200: jsonResponse(z.array(Loose), "Your votes sent elsewhere") },
    }),
    (c) => {
      const user = requireUser(c, db);
      const votes = listSentVotes(db, actorIri(deps.origin, user.username), c.req.valid("query").proposal);
      return c.json(votes.map(sentVoteView), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/proposals/{id}",
      tags: ["proposals"],
      summary: "One proposal with its tally, the rule that decides it, and (signed in) your vote",
      request: { params: IdParam },
      responses: { 200: jsonResponse(Loose, "The proposal"), 404: problemResponse("No such proposal") },
    }),
    async (c) => {
      const found = findProposal(db, c.req.valid("param").id);
      if (!found) throw new NotFoundError(`No proposal ${c.req.valid("param").id}.`);
      const policy = getPolicyById(db, found.policyId);
      const community = communityOf(policy);
      await settle(policy, community);
      return c.json(view(policy, community, findProposal(db, found.id)!, optionalUser(c, db)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/communities/{handle}/decision-rules",
      tags: ["proposals"],
      summary: "The community's decision rules: its overrides, the effective rule per authority level, adoption mode and partner instances",
      request: { params: z.object({ handle: z.string().openapi({ param: { name: "handle", in: "path" } }) }) },
      responses: { 200: jsonResponse(Loose, "The settings") },
    }),
    (c) => c.json(rulesView(getCommunity(db, c.req.valid("param").handle)), 200),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/proposals/{id}/vote",
      tags: ["proposals"],
      summary: "Vote yes, no, abstain or block (members); you can change your vote until it closes",
      security,
      request: { params: IdParam, body: jsonBody(z.object({ value: z.enum(VOTE_VALUES) }).strict()) },
      responses: { 200: jsonResponse(Loose, "The proposal after your vote"), 409: problemResponse("Voting closed"), 403: problemResponse("Not a member") },
    }),
    async (c) => {
      const user = requireUser(c, db);
      const proposal = findProposal(db, c.req.valid("param").id);
      if (!proposal) throw new NotFoundError(`No proposal ${c.req.valid("param").id}.`);
      const policy = getPolicyById(db, proposal.policyId);
      const community = communityOf(policy);
      await settle(policy, community);
      castVote(db, findProposal(db, proposal.id)!, community, user, c.req.valid("json").value);
      return c.json(view(policy, community, findProposal(db, proposal.id)!, user), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/proposals/remote-vote",
      tags: ["proposals"],
      summary: "Vote on another instance's proposal, as a member of a partner instance (signed by your actor)",
      description: "The community answers a vote it does not count with a Reject and a reason; GET /proposals/remote-votes shows it.",
      security,
      request: { body: jsonBody(z.object({ proposal: z.string().url(), value: z.enum(VOTE_VALUES) }).strict()) },
      responses: { 202: jsonResponse(Loose, "Vote sent; the community counts it if this instance is its partner"), 502: problemResponse("The proposal could not be fetched") },
    }),
    async (c) => {
      const user = requireUser(c, db);
      const body = c.req.valid("json");
      const ctx = fedContext(deps);
      let sent: SentVote;
      try {
        sent = await sendPartnerVote(ctx, user.username, body.proposal, body.value);
      } catch (error) {
        throw new FedalignError(`Cannot vote on ${body.proposal}: ${(error as Error).message}.`, 502);
      }
      return c.json(sentVoteView(sent), 202);
    },
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/communities/{handle}/decision-rules",
      tags: ["proposals"],
      summary: "Set the community's decision rules per authority level, and whether adopted proposals publish directly (stewards)",
      security,
      request: {
        params: z.object({ handle: z.string().openapi({ param: { name: "handle", in: "path" } }) }),
        body: jsonBody(
          z
            .object({
              rules: communityRulesSchema.optional(),
              adoptMode: z.enum(["draft", "publish"]).optional(),
              partners: z.array(z.string().trim().min(1).max(255)).max(100).optional().openapi({ description: "Hosts of instances whose members may vote" }),
            })
            .strict(),
        ),
      },
      responses: { 200: jsonResponse(Loose, "The settings") },
    }),
    (c) => {
      const community = getCommunity(db, c.req.valid("param").handle);
      assertSteward(db, community, requireUser(c, db));
      const body = c.req.valid("json");
      db.update(communities)
        .set({
          ...(body.rules ? { decisionRules: body.rules as Record<string, unknown> } : {}),
          ...(body.adoptMode ? { adoptMode: body.adoptMode } : {}),
          ...(body.partners ? { partners: body.partners.map((host) => host.toLowerCase()) } : {}),
        })
        .where(eq(communities.id, community.id))
        .run();
      return c.json(rulesView(community), 200);
    },
  );

  function rulesView(community: Community) {
    const row = db
      .select({ rules: communities.decisionRules, adoptMode: communities.adoptMode, partners: communities.partners })
      .from(communities)
      .where(eq(communities.id, community.id))
      .get()!;
    const overrides = communityRules(db, community);
    return {
      rules: row.rules,
      effective: Object.fromEntries(AUTHORITY_LEVELS.map((level) => [level, rulesFor(level, overrides)])),
      adoptMode: row.adoptMode,
      partners: row.partners,
    };
  }

  return app;
}
