/** Offering a fork's changes upstream, and deciding on offers received. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { randomUUID } from "node:crypto";
import type { Context } from "hono";
import { assertSteward, findCommunityById, type Community } from "../communities.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { diffContents } from "../policies/diff.ts";
import { acceptOffer, describeOffer, forkChanges, getOffer, listOffers, offerChanges, recordDecision, recordOffer, rejectOffer, type Offer } from "../policies/offers.ts";
import { findPolicyByIri, getDraft, getPolicyById, headVersion, versionContent, type Policy } from "../policies/policies.ts";
import { applyChangeSet, changeSetFromContents } from "../policies/changeset.ts";
import { createProposal } from "../participation/proposals.ts";
import type { User } from "../accounts/users.ts";
import { sendOffer, sendOfferDecision } from "../../federation/offers.ts";
import { afterCommit } from "../../federation/outgoing.ts";
import { requireUser } from "./auth.ts";
import { fedContext, type ApiDeps } from "./deps.ts";
import { jsonBody, jsonResponse, problemResponse, security, IdParam } from "./schemas.ts";

const OfferRequest = z
  .object({
    message: z.string().max(5000).optional(),
    clauses: z.array(z.string()).min(1).optional().openapi({ description: "Offer only these clauses' changes" }),
  })
  .strict()
  .openapi("OfferRequest");
const Decision = z
  .object({
    offer: z.string().url(),
    reason: z.string().max(5000).optional(),
    asProposal: z.boolean().optional().openapi({ description: "Accept into a proposal the members vote on, instead of straight into the draft" }),
  })
  .strict()
  .openapi("OfferDecision");
const OfferView = z.record(z.string(), z.unknown()).openapi("Offer");

export function offerRoutes(deps: ApiDeps) {
  const { db } = deps;
  const app = new OpenAPIHono();

  const stewardOf = (c: Context, policy: Policy): Community => {
    const user = requireUser(c, db);
    const community = policy.communityId !== null ? findCommunityById(db, policy.communityId) : undefined;
    if (!community) throw new InvalidInputError(`${policy.iri} is not one of this instance's policies.`);
    assertSteward(db, community, user);
    return community;
  };

  /** An offer with the diff it would make to the target's draft (incoming) or what it changes (outgoing). */
  const view = (offer: Offer) => {
    const target = findPolicyByIri(db, offer.targetIri);
    const changes = offerChanges(offer);
    let preview: unknown = null;
    if (offer.direction === "incoming" && target?.draft && offer.state === "pending") {
      const draft = getDraft(target);
      const applied = applyChangeSet(draft, changes);
      preview = { conflicts: applied.conflicts, diff: diffContents(draft, applied.content) };
    }
    return {
      iri: offer.iri,
      direction: offer.direction,
      state: offer.state,
      reason: offer.reason,
      target: offer.targetIri,
      origin: offer.originIri,
      from: offer.actorIri,
      message: offer.message,
      summary: describeOffer(offer),
      changes,
      preview,
      createdAt: offer.createdAt.toISOString(),
      decidedAt: offer.decidedAt?.toISOString() ?? null,
    };
  };

  app.openapi(
    createRoute({
      method: "post",
      path: "/policies/{id}/offers",
      tags: ["offers"],
      summary: "Offer the fork's published changes (or some clauses' changes) to its upstream community",
      security,
      request: { params: IdParam, body: jsonBody(OfferRequest) },
      responses: { 201: jsonResponse(OfferView, "The offer"), 400: problemResponse("Not a fork, or nothing to offer") },
    }),
    async (c) => {
      const fork = getPolicyById(db, c.req.valid("param").id);
      const community = stewardOf(c, fork);
      const body = c.req.valid("json");
      const changes = forkChanges(db, fork, body.clauses);
      const upstream = fork.upstreamIri ? findPolicyByIri(db, fork.upstreamIri) : undefined;
      if (!upstream) throw new NotFoundError(`The upstream policy ${fork.upstreamIri} is not known here.`);
      const ctx = fedContext(deps);
      const offer = recordOffer(db, {
        iri: `${fork.iri}/offers/${randomUUID()}`,
        direction: "outgoing",
        targetIri: upstream.iri,
        originIri: fork.iri,
        actorIri: ctx.getActorUri(community.handle).href,
        changes,
        message: body.message?.trim() ?? "",
      });
      await afterCommit("send an Offer upstream", () => sendOffer(ctx, community.handle, offer, upstream));
      return c.json(view(offer), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/policies/{id}/offers",
      tags: ["offers"],
      summary: "Offers received for this policy and offers made from it, with their diffs",
      request: { params: IdParam },
      responses: { 200: jsonResponse(z.array(OfferView), "Offers, newest first") },
    }),
    (c) => c.json(listOffers(db, getPolicyById(db, c.req.valid("param").id)).map(view), 200),
  );

  /** The offer's changes, rebased onto the newest version, become a proposal the members vote on. */
  const acceptAsProposal = (offer: Offer, policy: Policy, community: Community, user: User): Offer => {
    const head = headVersion(db, policy);
    if (!head) throw new InvalidInputError(`"${policy.title}" has no published version to propose changes to.`);
    const base = versionContent(head);
    const applied = applyChangeSet(base, offerChanges(offer));
    if (applied.conflicts.length > 0) {
      throw new ConflictError(`The offer does not apply to version ${head.number}: ${applied.conflicts.map((x) => `${x.id} (${x.reason})`).join("; ")}.`);
    }
    return db.transaction(() => {
      createProposal(db, {
        policy,
        community,
        author: user,
        title: offer.message ? `Offer: ${offer.message}` : `Offer from ${offer.actorIri}`,
        summary: `Offered by ${offer.actorIri} from ${offer.originIri}.`,
        changes: changeSetFromContents(base, applied.content),
        offerIri: offer.iri,
      });
      return recordDecision(db, offer, "accepted", "Accepted as a proposal for the members to vote on.");
    });
  };

  for (const decision of ["accept", "reject"] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/offers/${decision}`,
        tags: ["offers"],
        summary: decision === "accept" ? "Accept an offer: its changes go into the draft (stewards)" : "Reject an offer with a reason (stewards)",
        security,
        request: { body: jsonBody(Decision) },
        responses: { 200: jsonResponse(OfferView, "The decided offer"), 409: problemResponse("Already decided, or no longer applies") },
      }),
      async (c) => {
        const body = c.req.valid("json");
        const offer = getOffer(db, body.offer);
        if (offer.direction !== "incoming") throw new InvalidInputError("This is an offer you made; only its recipient can decide on it.");
        const policy = findPolicyByIri(db, offer.targetIri);
        if (!policy) throw new NotFoundError(`The policy ${offer.targetIri} no longer exists.`);
        const community = stewardOf(c, policy);
        const decided =
          decision === "reject"
            ? rejectOffer(db, offer, body.reason?.trim() || "No reason given.")
            : body.asProposal
              ? acceptAsProposal(offer, policy, community, requireUser(c, db))
              : acceptOffer(db, offer, policy).offer;
        const ctx = fedContext(deps);
        await afterCommit(`send the decision on an offer (${decision})`, () => sendOfferDecision(ctx, community.handle, decided));
        return c.json(view(decided), 200);
      },
    );
  }

  return app;
}
