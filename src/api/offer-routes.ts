/** Offering a fork's changes upstream, and deciding on offers received (src/app/offers.ts). */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { decideOffer, makeOffer, policyOffers } from "../app/offers.ts";
import { requireUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { IdParam, jsonBody, jsonResponse, problemResponse, security } from "./schemas.ts";
import { OfferDecisionInput, OfferRequest, OfferView } from "./schemas/participation.ts";

const offer = createRoute({
  method: "post",
  path: "/policies/{id}/offers",
  tags: ["offers"],
  summary: "Offer the fork's published changes (or some clauses' changes) to its upstream community",
  security,
  request: { params: IdParam, body: jsonBody(OfferRequest) },
  responses: { 201: jsonResponse(OfferView, "The offer"), 400: problemResponse("Not a fork, or nothing to offer") },
});

const list = createRoute({
  method: "get",
  path: "/policies/{id}/offers",
  tags: ["offers"],
  summary: "Offers received for this policy and offers made from it, with their diffs",
  request: { params: IdParam },
  responses: { 200: jsonResponse(z.array(OfferView), "Offers, newest first") },
});

const decide = (decision: "accept" | "reject") =>
  createRoute({
    method: "post",
    path: `/offers/${decision}`,
    tags: ["offers"],
    summary: decision === "accept" ? "Accept an offer: its changes go into the draft (stewards)" : "Reject an offer with a reason (stewards)",
    security,
    request: { body: jsonBody(OfferDecisionInput) },
    responses: { 200: jsonResponse(OfferView, "The decided offer"), 409: problemResponse("Already decided, or no longer applies") },
  });

export function offerRoutes(deps: ApiDeps) {
  const { db, context: ctx } = deps;
  const app = new OpenAPIHono();
  app.openapi(offer, async (c) => c.json(await makeOffer(ctx, await requireUser(c, db), c.req.valid("param").id, c.req.valid("json")), 201));
  app.openapi(list, async (c) => c.json(await policyOffers(ctx, c.req.valid("param").id), 200));
  for (const decision of ["accept", "reject"] as const) {
    app.openapi(decide(decision), async (c) => c.json(await decideOffer(ctx, await requireUser(c, db), decision, c.req.valid("json")), 200));
  }
  return app;
}
